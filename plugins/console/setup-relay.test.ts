// The wizard's smarthost save: the password file, the live config, and the config file
// written only when it exists, has no relay yet and still parses afterwards.
import { afterEach, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Core } from "../../core/types.ts";
import { relayFromForm, relayToml, saveRelay } from "./setup-relay.tsx";
import { sourceUrl } from "./routes-import.tsx";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function fakeCore(): Core {
  const dataDir = mkdtempSync(join(tmpdir(), "kotakpos-relay-save-"));
  dirs.push(dataDir);
  return { dataDir, config: { delivery: { relay: { url: "", preset: "", username: "", passwordFile: "", caFile: "", domains: [] } } } } as unknown as Core;
}

test("a preset with a login: password file 0600, live config, the section appended to kotakpos.toml", () => {
  const core = fakeCore();
  writeFileSync(join(core.dataDir, "kotakpos.toml"), 'hostname = "mx.example.com"\n[delivery]\nmaxAge = "3d"');
  const r = relayFromForm(core, { preset: "sendgrid", username: "apikey", password: "SG.secret" });
  if ("error" in r) throw new Error(r.error);
  const saved = saveRelay(core, r.relay, "SG.secret");
  expect(saved.file).toBe(join(core.dataDir, "kotakpos.toml"));
  const pw = join(core.dataDir, "relay.password");
  expect(readFileSync(pw, "utf8")).toBe("SG.secret\n");
  expect(statSync(pw).mode & 0o777).toBe(0o600);
  expect(core.config.delivery.relay).toMatchObject({ preset: "sendgrid", username: "apikey", passwordFile: pw });
  expect(Bun.TOML.parse(readFileSync(saved.file!, "utf8"))).toEqual({ hostname: "mx.example.com", delivery: { maxAge: "3d", relay: { preset: "sendgrid", username: "apikey", passwordFile: pw } } });
});

test("a config file that already names a relay, or none at all: only the lines to add", () => {
  const core = fakeCore();
  const r = relayFromForm(core, { preset: "custom", url: "smtps://smtp.example.net:465", username: "" });
  if ("error" in r) throw new Error(r.error);
  expect(saveRelay(core, r.relay, undefined)).toEqual({ toml: '[delivery.relay]\nurl = "smtps://smtp.example.net:465"\n' });
  expect(existsSync(join(core.dataDir, "relay.password"))).toBe(false);
  const file = join(core.dataDir, "kotakpos.toml");
  writeFileSync(file, '[delivery.relay]\nurl = "smtp://old.example:587"\n');
  expect(saveRelay(core, r.relay, undefined).file).toBeUndefined();
  expect(readFileSync(file, "utf8")).toBe('[delivery.relay]\nurl = "smtp://old.example:587"\n');
});

test("bad forms are said in words", () => {
  const core = fakeCore();
  expect(relayFromForm(core, { preset: "" })).toEqual({ error: "Choose a provider, or Custom and its address." });
  expect(relayFromForm(core, { preset: "custom", url: "relay.example.com" })).toMatchObject({ error: expect.stringContaining("smtp://") });
  expect(relayFromForm(core, { preset: "mailgun", username: "postmaster@mg.example.com", password: "" })).toMatchObject({ error: expect.stringContaining("password") });
  expect(relayToml({ url: "", preset: "fastmail", username: 'we"ird', passwordFile: "/d/relay.password", caFile: "", domains: [] })).toBe(
    '[delivery.relay]\npreset = "fastmail"\nusername = "we\\"ird"\npasswordFile = "/d/relay.password"\n',
  );
});

test("the import form becomes an IMAP URL; a user name with @ is escaped", () => {
  expect(sourceUrl({ host: "IMAP.Example.com", username: "me@example.com", password: "x" })).toEqual({ url: "imaps://me%40example.com@imap.example.com" });
  expect(sourceUrl({ host: "127.0.0.1", port: "1143", security: "starttls", username: "old", password: "x" })).toEqual({ url: "imap://old@127.0.0.1:1143" });
  expect(sourceUrl({ host: "a b", username: "u", password: "x" })).toMatchObject({ error: expect.stringContaining("host name") });
  expect(sourceUrl({ host: "h.example", username: "u", port: "99999", password: "x" })).toMatchObject({ error: expect.stringContaining("port") });
  expect(sourceUrl({ host: "h.example", username: "u" })).toMatchObject({ error: expect.stringContaining("password") });
});
