import { expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { relayApplies, relayHops, relaySpec, type RelayConfig } from "./relay.ts";

const cfg = (x: Partial<RelayConfig>): RelayConfig => ({ url: "", preset: "", username: "", passwordFile: "", caFile: "", domains: [], ...x });

test("url forms, presets, and the 2525 fallback for STARTTLS on 587", () => {
  expect(relaySpec(cfg({}))).toBeNull();
  expect(relaySpec(cfg({ url: "smtps://Mail.Example.com" }))).toMatchObject({ host: "mail.example.com", port: 465, implicitTls: true, fallback2525: false });
  expect(relaySpec(cfg({ url: "smtp://mail.example.com" }))).toMatchObject({ port: 587, implicitTls: false, fallback2525: true });
  expect(relaySpec(cfg({ url: "smtp://[2001:db8::1]:2525" }))).toMatchObject({ host: "2001:db8::1", port: 2525, fallback2525: false });
  expect(relaySpec(cfg({ preset: "fastmail" }))).toMatchObject({ host: "smtp.fastmail.com", port: 465, implicitTls: true, spfInclude: "spf.messagingengine.com" });
  expect(() => relaySpec(cfg({ preset: "nope" }))).toThrow('delivery.relay.preset "nope" is unknown');
  expect(() => relaySpec(cfg({ url: "smtp://a b" }))).toThrow("is not smtp://host:port");
  const hops = relayHops(relaySpec(cfg({ url: "smtp://relay.example:587" }))!);
  expect(hops.map((h) => [h.port, h.preference, h.requireTls, h.verifyTls])).toEqual([
    [587, 0, true, "the relay relay.example"],
    [2525, 1, true, "the relay relay.example"],
  ]);
});

test("domains choose whose mail goes through; the password comes from a file or the environment", () => {
  expect(relayApplies(cfg({}), "")).toBe(true);
  expect(relayApplies(cfg({ domains: ["A.test"] }), "x@a.test")).toBe(true);
  expect(relayApplies(cfg({ domains: ["a.test"] }), "x@b.test")).toBe(false);
  expect(relayApplies(cfg({ domains: ["a.test"] }), "")).toBe(false);
  const dir = mkdtempSync(join(tmpdir(), "relay-"));
  writeFileSync(join(dir, "pw"), "s3cret\n");
  const fromFile = relayHops(relaySpec(cfg({ url: "smtps://r.example", username: "u", passwordFile: join(dir, "pw") }))!);
  expect(fromFile[0]!.auth).toEqual({ username: "u", password: "s3cret" });
  const env = { KOTAKPOS_RELAY_PASSWORD: "from-env" };
  expect(relayHops(relaySpec(cfg({ url: "smtps://r.example", username: "u" }), env)!, env)[0]!.auth).toEqual({ username: "u", password: "from-env" });
  expect(() => relayHops(relaySpec(cfg({ url: "smtps://r.example", username: "u" }), {})!, {})).toThrow("no password");
  expect(() => relayHops(relaySpec(cfg({ url: "smtps://r.example", username: "u", passwordFile: join(dir, "missing") }))!)).toThrow("cannot be read: ENOENT");
});
