// Issue 11 item 3, as an attacker and the owner would log in (Python's smtplib, imaplib and
// poplib, from chosen loopback addresses): names that are not canonical are refused even
// with the right password; 30 wrong passwords from three addresses slow the account down
// for new addresses but not for one the owner already logged in from; the state survives
// a restart.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import imap from "../../plugins/imap/index.ts";
import pop3 from "../../plugins/pop3/index.ts";
import smtp from "../../plugins/smtp/index.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";

const ALICE = { address: "alice@local.test", password: "alice-right-pw" };
const PROTOS = ["smtp", "imap", "pop3"] as const;
type Proto = (typeof PROTOS)[number];

let s: TestServer;
const start = (dataDir?: string) =>
  startTestServer({
    plugins: [smtp, imap, pop3],
    domains: ["local.test"],
    users: [ALICE],
    keepData: true,
    ...(dataDir && { dataDir }),
    config: { auth: { maxFailuresPerIp: 10 }, pop3: { authFailureDelayMs: 0 } },
  });

beforeAll(async () => {
  s = await start();
});
afterAll(async () => {
  await s?.stop();
  const { rmSync } = await import("node:fs");
  if (s) rmSync(s.dataDir, { recursive: true, force: true });
});

interface Attempt {
  ok: boolean;
  reply: string;
}

async function login(proto: Proto, src: string, user: string, pw: string, count = 1): Promise<Attempt[]> {
  const port = s.port(proto === "smtp" ? "submission" : proto);
  const p = Bun.spawn(["/usr/bin/python3", join(import.meta.dir, "login.py"), proto, String(port), src, user, pw, String(count)], { stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  if (code !== 0) throw new Error(`login.py failed: ${err}`);
  return JSON.parse(out) as Attempt[];
}
const once = async (proto: Proto, src: string, user: string, pw = ALICE.password) => (await login(proto, src, user, pw))[0]!;

describe("login names that are not canonical are refused, with the right password", () => {
  for (const proto of PROTOS) {
    test(proto, async () => {
      for (const name of ["alice@local.test.", " alice@local.test", "alice@local.test "]) {
        const r = await once(proto, "127.0.0.9", name);
        expect({ name, ok: r.ok }).toEqual({ name, ok: false });
        expect(r.reply).toMatch(/535|AUTHENTICATIONFAILED|Invalid|-ERR/);
      }
      // The canonical name (any letter case) works.
      expect((await once(proto, "127.0.0.1", "Alice@Local.TEST")).ok).toBe(true);
    }, 30_000);
  }
});

describe("30 wrong passwords from three addresses", () => {
  beforeAll(async () => {
    // The owner has logged in from 127.0.0.1 before (the describe above did too).
    expect((await once("imap", "127.0.0.1", ALICE.address)).ok).toBe(true);
    const tries = await Promise.all([
      login("smtp", "127.0.0.2", ALICE.address, "guess", 10),
      login("imap", "127.0.0.3", ALICE.address, "guess", 10),
      login("pop3", "127.0.0.4", ALICE.address, "guess", 10),
    ]);
    for (const t of tries) expect(t.every((x) => !x.ok)).toBe(true);
  }, 60_000);

  test("the owner still logs in from an address where they logged in before (SMTP, IMAP, POP3)", async () => {
    for (const proto of PROTOS) expect(await once(proto, "127.0.0.1", ALICE.address)).toMatchObject({ ok: true });
  }, 30_000);

  test("from a new address the account is slowed down: a temporary refusal saying when to retry", async () => {
    const r = { smtp: await once("smtp", "127.0.0.5", ALICE.address), imap: await once("imap", "127.0.0.5", ALICE.address), pop3: await once("pop3", "127.0.0.5", ALICE.address) };
    console.log(`after 30 failures, right password from a new address: ${JSON.stringify(r)}`);
    expect(r.smtp.reply).toMatch(/^454 4\.7\.0 Too many failed logins for this account; try again in \d+ s/);
    expect(r.imap.reply).toMatch(/UNAVAILABLE.*try again in \d+ s/);
    expect(r.pop3.reply).toMatch(/^-ERR \[SYS\/TEMP\] .*try again in \d+ s/);
  }, 30_000);

  test("an attacking address is refused even with the right password", async () => {
    expect((await once("smtp", "127.0.0.2", ALICE.address)).reply).toMatch(/^421 4\.7\.0 Too many failed logins from your address/);
  }, 30_000);

  test("after a restart the limiter remembers (state in the database)", async () => {
    const dataDir = s.dataDir;
    await s.stop();
    s = await start(dataDir);
    expect((await once("smtp", "127.0.0.5", ALICE.address)).reply).toMatch(/^454 4\.7\.0 /);
    expect((await once("smtp", "127.0.0.2", ALICE.address)).reply).toMatch(/^421 4\.7\.0 /);
    expect((await once("imap", "127.0.0.1", ALICE.address)).ok).toBe(true);
  }, 30_000);
});
