// Limits against abuse of our own accounts (issue 22), driven by python's smtplib and
// imaplib: an account over its hourly limit gets 451 4.7.0 with the reason and the admin
// one alert; a burst to new recipients holds the account; an IP with repeated failed
// logins is refused, and fail2ban's own fail2ban-regex finds the IP in our log lines.
import { afterAll, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import { createLogger } from "../../core/log.ts";
import { mailbox, pySend, run } from "../helpers/smtp.ts";
import { python } from "../helpers/imap.ts";
import smtp from "../../plugins/smtp/index.ts";
import imap from "../../plugins/imap/index.ts";
import ratelimit from "../../plugins/ratelimit/index.ts";

const ALICE = { address: "alice@example.test", password: "alice-pw-1" };
const ADMIN = { address: "postmaster@example.test", password: "admin-pw-1" };
const servers: TestServer[] = [];
afterAll(async () => {
  for (const s of servers) await s.cleanup();
});

async function server(cfg: Record<string, unknown>, logSink?: (l: string) => void): Promise<TestServer> {
  const s = await startTestServer({ users: [ALICE, ADMIN], plugins: [smtp, imap, ratelimit], config: { ratelimit: cfg }, ...(logSink && { log: createLogger("info", {}, logSink) }) });
  servers.push(s);
  return s;
}

const msg = (to: string, i: number) => `From: <${ALICE.address}>\r\nTo: <${to}>\r\nSubject: note ${i}\r\n\r\nhello ${i}\r\n`;
const submit = (s: TestServer, to: string[], i: number) => pySend(s.port("submission"), { from: ALICE.address, to, msg: msg(to[0]!, i), login: [ALICE.address, ALICE.password] });

async function until(what: () => Promise<boolean>): Promise<void> {
  const end = Date.now() + 10_000;
  while (!(await what())) {
    if (Date.now() > end) throw new Error("timed out");
    await Bun.sleep(50);
  }
}

test("an account over its hourly limit gets 451 4.7.0 with the reason; the admin gets one alert", async () => {
  const s = await server({ messagesPerHour: 2 });
  for (let i = 1; i <= 2; i++) expect((await submit(s, [ADMIN.address], i)).ok).toBe(true);
  for (let i = 3; i <= 4; i++) {
    const r = await submit(s, [ADMIN.address], i);
    expect(r.ok).toBe(false);
    expect(r.code).toBe(451);
    expect(r.msg).toBe("4.7.0 Sending limit reached: at most 2 messages per hour for alice@example.test; try again later");
  }
  await until(async () => (await mailbox(s, ADMIN.address)).length >= 3);
  await Bun.sleep(200);
  const inbox = await mailbox(s, ADMIN.address);
  const alerts = inbox.filter((m) => m.includes("Subject: Sending limit reached by alice@example.test"));
  expect(alerts).toHaveLength(1);
  expect(alerts[0]).toContain("Auto-Submitted: auto-generated");
  expect(inbox.filter((m) => m.includes("Subject: note"))).toHaveLength(2);
}, 60_000);

test("a burst to many new recipients holds the account's sending and alerts the admin", async () => {
  const s = await server({ burstNewRecipients: 3 });
  const first = await submit(s, ["a1@remote.test", "a2@remote.test", "a3@remote.test"], 1);
  expect(first.ok).toBe(true);
  const r = await submit(s, ["a4@remote.test"], 2);
  expect(r.ok).toBe(false);
  expect(JSON.stringify(r)).toContain("451");
  expect(JSON.stringify(r)).toContain("Sending held: an unusual burst of mail to new recipients");
  // Held: even a known recipient is deferred now.
  const again = await submit(s, ["a1@remote.test"], 3);
  expect(again.ok).toBe(false);
  expect(again.code).toBe(451);
  await until(async () => (await mailbox(s, ADMIN.address)).some((m) => m.includes("Subject: Sending held for alice@example.test")));
}, 60_000);

test("an IP with repeated failed logins is refused; fail2ban-regex matches the log lines", async () => {
  const lines: string[] = [];
  const s = await server({ maxAuthFailures: 3 }, (l) => lines.push(l));
  const login = (pw: string) =>
    python(
      `
import imaplib, sys, json
try:
    M = imaplib.IMAP4('127.0.0.1', int(sys.argv[1]))
except Exception as e:
    print(json.dumps(['CONNECT', str(e)])); sys.exit(0)
try:
    M.login('alice@example.test', sys.argv[2]); print(json.dumps(['OK'])); M.logout()
except Exception as e:
    print(json.dumps(['NO', str(e)]))
`,
      [String(s.port("imap")), pw],
    ).then((o) => JSON.parse(o) as string[]);
  expect((await login(ALICE.password))[0]).toBe("OK");
  for (let i = 0; i < 3; i++) expect((await login("wrong-password"))[0]).toBe("NO");
  // Banned now: the right password no longer helps, on IMAP or SMTP.
  const banned = await login(ALICE.password);
  expect(banned[0]).not.toBe("OK");
  expect(banned[1]).toContain("Too many failed logins");
  const smtpTry = await submit(s, [ADMIN.address], 1);
  expect(smtpTry.ok).toBe(false);
  expect(smtpTry.code).toBe(421);

  const failures = lines.filter((l) => l.includes("auth failure"));
  expect(failures).toHaveLength(3);
  const log = join(s.dataDir, "kotakpos.log");
  writeFileSync(log, lines.join(""));
  const r = await run(["fail2ban-regex", log, String.raw`^\s*warn +auth failure rip=<HOST>\b`]);
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(/Failregex: 3 total/);
  expect(r.stdout).toMatch(/127\.0\.0\.1/);
}, 60_000);
