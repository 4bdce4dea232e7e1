// While a server runs, import and migrate run inside it (control socket): its Store writes,
// so an IMAP client idling on INBOX sees the new mail at once. And migrate over TLS:
// imaps:// with a self-signed source needs --insecure; imap:// upgrades with STARTTLS.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ImapFlow } from "imapflow";
import { startTestServer, type TestServer } from "../../tests/helpers/server.ts";
import { controlSocketPath } from "../../core/cli/context.ts";
import { startControlServer, type ControlServer } from "../../core/control/server.ts";
import { createLogger } from "../../core/log.ts";
import { cli, dumpAccount, makeDataDir, type DataDir } from "./test-helpers.ts";

const ALICE = { address: "alice@example.test", password: "alice-pw-1" };
let server: TestServer;
let control: ControlServer | null;
let files = "";

beforeAll(async () => {
  server = await startTestServer({ users: [ALICE], config: { auth: { allowPlaintextOnLoopback: false } } });
  control = await startControlServer({ path: controlSocketPath(server.dataDir), api: server.admin, log: createLogger("error") });
  files = mkdtempSync(join(tmpdir(), "kotakpos-migrate-srv-"));
});
afterAll(async () => {
  await control?.close();
  await server.cleanup();
  rmSync(files, { recursive: true, force: true });
});

const mboxOf = (n: number, tag: string) => Array.from({ length: n }, (_, i) => `From x@y Mon Jan  1 10:00:00 2024\nFrom: x@y.test\nSubject: ${tag} ${i}\n\nbody ${i}\n\n`).join("");

async function client(): Promise<ImapFlow> {
  const c = new ImapFlow({
    host: "127.0.0.1",
    port: server.port("imaps"),
    secure: true,
    servername: "localhost",
    tls: { rejectUnauthorized: false },
    auth: { user: ALICE.address, pass: ALICE.password },
    logger: false,
  });
  await c.connect();
  return c;
}

test("import while serving runs in the server: a client idling on INBOX sees the mail", async () => {
  expect(control).not.toBeNull();
  const c = await client();
  try {
    await c.mailboxOpen("INBOX");
    let exists = 0;
    c.on("exists", (d: { count: number }) => void (exists = d.count));
    const idling = c.idle();
    const appends: number[] = [];
    const off = server.core.store.onChange((e) => e.kind === "append" && appends.push(...e.uids));
    const path = join(files, "live.mbox");
    writeFileSync(path, mboxOf(250, "live"));
    const r = await cli(server.dataDir, ["import", ALICE.address, path]);
    off();
    expect(r.err).not.toContain("kotakpos:");
    expect(r.out).toContain("found 250 = imported 250 + skipped 0 + already there 0");
    // The server's own store wrote them (its change events fired) …
    expect(appends.length).toBe(250);
    // … and the idling session was told.
    for (let i = 0; i < 100 && exists < 250; i++) await Bun.sleep(20);
    expect(exists).toBe(250);
    await c.noop();
    await idling.catch(() => {});
  } finally {
    await c.logout();
  }
});

test("export while serving writes the files from the server's store", async () => {
  const dest = join(files, "out");
  const r = await cli(server.dataDir, ["export", ALICE.address, dest, "--format", "mbox"]);
  expect(r.code).toBe(0);
  expect(r.out).toContain("found 250 = imported 250");
  expect((await Bun.file(join(dest, "INBOX.mbox")).text()).split("\nFrom kotakpos ").length).toBe(250);
});

let target: DataDir;
test("migrate over TLS from a server with a self-signed certificate: refused without --insecure, copied with it; imap:// uses STARTTLS", async () => {
  target = await makeDataDir(["dana@example.test", "erin@example.test"]);
  try {
    const port = server.port("imaps");
    const refused = await cli(target.dir, ["migrate", "dana@example.test", `imaps://${ALICE.address}@127.0.0.1:${port}`, "--password-stdin"], ALICE.password + "\n");
    expect(refused.code).toBe(1);
    expect(refused.err).toContain("--insecure");
    const ok = await cli(target.dir, ["migrate", "dana@example.test", `imaps://${ALICE.address}@127.0.0.1:${port}`, "--password-stdin", "--insecure"], ALICE.password + "\n");
    expect(ok.err).not.toContain("kotakpos:");
    expect(ok.out).toContain("found 250 = imported 250 + skipped 0 + already there 0");
    // The source refuses a password before TLS (allowPlaintextOnLoopback off): this login
    // works only because imap:// upgraded with STARTTLS.
    const plain = new ImapFlow({ host: "127.0.0.1", port: server.port("imap"), secure: false, doSTARTTLS: false, auth: { user: ALICE.address, pass: ALICE.password }, logger: false });
    plain.on("error", () => {});
    await expect(plain.connect()).rejects.toThrow();
    const starttls = await cli(target.dir, ["migrate", "erin@example.test", `imap://${ALICE.address}@127.0.0.1:${server.port("imap")}`, "--password-stdin", "--insecure"], ALICE.password + "\n");
    expect(starttls.err).not.toContain("kotakpos:");
    expect(starttls.out).toContain("found 250 = imported 250");
    const d = await dumpAccount(target.dir, "dana@example.test", { skipEmpty: true });
    const e = await dumpAccount(target.dir, "erin@example.test", { skipEmpty: true });
    expect(d.INBOX!.length).toBe(250);
    expect(e).toEqual(d);
  } finally {
    target.cleanup();
  }
});
