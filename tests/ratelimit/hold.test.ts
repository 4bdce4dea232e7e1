// A burst holds the account's queued outbound mail, not only its new submissions; an admin
// lists and releases it with `kotakpos ratelimit held|release` (through the running
// server's control socket). The counters and the hold survive a restart. Clients: python's
// smtplib for submission, Python's aiosmtpd as the receiving MTA behind a test DNS server.
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import { mailbox, pySend } from "../helpers/smtp.ts";
import { freePort, startAiosmtpd, type Aiosmtpd } from "../helpers/aiosmtpd.ts";
import { startDnsFor } from "../helpers/pair.ts";
import { until } from "../helpers/until.ts";
import type { TestDns } from "../helpers/dns-server.ts";
import { main } from "../../main.ts";
import type { Io } from "../../core/cli/io.ts";
import { controlSocketPath } from "../../core/cli/context.ts";
import { startControlServer, type ControlServer } from "../../core/control/server.ts";
import { createLogger } from "../../core/log.ts";
import smtp from "../../plugins/smtp/index.ts";
import ratelimit from "../../plugins/ratelimit/index.ts";

const ALICE = { address: "alice@example.test", password: "alice-pw-1" };
const ADMIN = { address: "postmaster@example.test", password: "admin-pw-1" };
const cleanups: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

async function server(dataDir: string, dns: TestDns, peerPort: number, cfg: Record<string, unknown>): Promise<{ s: TestServer; control: ControlServer }> {
  const s = await startTestServer({
    dataDir,
    keepData: true,
    users: [ALICE, ADMIN],
    plugins: [smtp, ratelimit],
    config: { ratelimit: cfg, dns: { servers: [dns.server], timeout: "1s" }, delivery: { port: peerPort, retry: ["1s"], maxAge: "1h", warnAfter: "" } },
  });
  const control = await startControlServer({ path: controlSocketPath(dataDir), api: s.admin, log: createLogger("error") });
  if (!control) throw new Error("no control socket");
  cleanups.push(
    () => s.cleanup(),
    () => control.close(),
  );
  return { s, control };
}

async function cli(dataDir: string, args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const io: Io = { out: (t) => void (out += t), err: (t) => void (err += t), readStdin: async () => "", promptHidden: async () => null, env: {} };
  const code = await main([...args, "--data", dataDir], io);
  return { code, out, err };
}

const submit = (s: TestServer, to: string[], subject: string) =>
  pySend(s.port("submission"), { from: ALICE.address, to, msg: `From: <${ALICE.address}>\r\nTo: <${to[0]}>\r\nSubject: ${subject}\r\n\r\nhello\r\n`, login: [ALICE.address, ALICE.password] });

test("a burst holds the account's queued mail until an admin releases it; the hold and the counts survive a restart", async () => {
  const dataDir = mkdtempSync(join(tmpdir(), "kotakpos-hold-"));
  const dns = await startDnsFor("remote.test");
  cleanups.push(() => dns.close());
  // The receiving MTA is not up yet: the first message stays queued (deferred, retried each second).
  const peerPort = await freePort();
  let { s, control } = await server(dataDir, dns, peerPort, { burstNewRecipients: 3, messagesPerHour: 3 });

  expect((await submit(s, ["a1@remote.test", "a2@remote.test", "a3@remote.test"], "queued before the burst")).ok).toBe(true);
  await until("a delivery attempt", async () => (await s.core.spool.list()).some((e) => e.status === "deferred" && e.attempts > 0));

  const burst = await submit(s, ["a4@remote.test"], "the burst");
  expect(burst.recipients?.["a4@remote.test"]).toEqual([451, "4.7.0 Sending held: an unusual burst of mail to new recipients; the administrator has been alerted"]);
  const held = await s.core.spool.list();
  expect(held.map((e) => e.status)).toEqual(["held", "held", "held"]);

  // The receiving MTA comes up: nothing is delivered while held.
  const sink: Aiosmtpd = await startAiosmtpd({ port: peerPort });
  cleanups.push(() => sink.stop());
  await Bun.sleep(2500);
  expect(sink.messages()).toHaveLength(0);

  const list = await cli(dataDir, ["ratelimit", "held"]);
  expect(list.code).toBe(0);
  expect(list.out).toMatch(/^alice@example\.test\theld since \S+ until released\tmore than 3 new recipients within 10 minutes \(from 127\.0\.0\.1\)\n/);
  expect(list.out.match(/@remote\.test\tqueued /g)).toHaveLength(3);
  const alert = await until("the alert", async () => (await mailbox(s, ADMIN.address)).find((m) => m.includes("Subject: Sending held for alice@example.test")));
  expect(alert).toContain("Its outbound messages still queued (1) are held");
  expect(alert).toContain("kotakpos ratelimit release alice@example.test");

  // A restart keeps the hold (and the held rows) and the hourly count.
  await control.close();
  await s.stop();
  ({ s, control } = await server(dataDir, dns, peerPort, { burstNewRecipients: 3, messagesPerHour: 3 }));
  const still = await submit(s, ["a1@remote.test"], "after the restart");
  expect(still.code).toBe(451);
  expect(still.msg).toContain("Sending held");
  await Bun.sleep(1500);
  expect(sink.messages()).toHaveLength(0);
  expect((await s.core.spool.list()).map((e) => e.status)).toEqual(["held", "held", "held"]);

  const rel = await cli(dataDir, ["ratelimit", "release", ALICE.address]);
  expect(rel).toEqual({ code: 0, out: "alice@example.test released; 3 held recipient(s) due now\n", err: "" });
  await until("the held mail delivered", async () => sink.messages().flatMap((m) => m.rcptTo).length === 3 || undefined);
  expect(sink.messages()[0]!.data).toContain("Subject: queued before the burst");
  expect((await cli(dataDir, ["ratelimit", "held"])).out).toBe("no account is held\n");

  // Released: known recipients pass again; the hourly count (1 message + the alert-free
  // refusals) carried over the restart: messages 2 and 3 pass, the 4th is over the limit.
  expect((await submit(s, ["a1@remote.test"], "after release 1")).ok).toBe(true);
  expect((await submit(s, ["a2@remote.test"], "after release 2")).ok).toBe(true);
  const over = await submit(s, ["a3@remote.test"], "after release 3");
  expect(over.code).toBe(451);
  expect(over.msg).toBe("4.7.0 Sending limit reached: at most 3 messages per hour for alice@example.test; try again later");
  expect((await cli(dataDir, ["ratelimit", "release", "nobody@example.test"])).err).toContain("no account nobody@example.test");
}, 90_000);
