// kill -9 of the sending server in the middle of a batch: after a restart every message
// it acknowledged reaches the other side (at-least-once; nothing lost).
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import nodemailer from "nodemailer";
import { definePlugin } from "../../core/types.ts";
import { builtinPlugins } from "../../plugins/index.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import type { TestDns } from "../helpers/dns-server.ts";
import { freePort, waitPort } from "../helpers/aiosmtpd.ts";
import { ALICE, BOB, inbox, startDnsFor, startSide, twoPorts, until } from "../helpers/pair.ts";

const ROOT = join(import.meta.dir, "../..");
const N = 40;

let dns: TestDns;
let b: TestServer;
let aDir: string;
let aPort: number;
let bPort: number;
let configFile: string;
let submissionPort: number;
let proc: ReturnType<typeof Bun.spawn> | null = null;

/** B takes its time with each message, so that A is mid-batch when it dies. */
const slow = definePlugin({
  name: "slow-peer",
  setup(core) {
    core.hooks.on("smtp.data", async () => {
      await Bun.sleep(120);
      return { kind: "check", verdict: { kind: "pass" } };
    });
  },
});

beforeAll(async () => {
  dns = await startDnsFor("a.test", "b.test");
  [aPort, bPort] = await twoPorts();
  b = await startSide("b.test", BOB, bPort, aPort, dns, { plugins: [...builtinPlugins, slow] });
  // A's data: domain and account made in-process, then served by a spawned `kotakpos serve`.
  aDir = mkdtempSync(join(tmpdir(), "kp-crash-a-"));
  const prep = await startTestServer({ dataDir: aDir, keepData: true, domains: ["a.test"], users: [ALICE] });
  await prep.cleanup();
  submissionPort = await freePort();
  // Only the ports the test talks to are fixed; the rest take any free port (no races).
  const others = ["submissions", "imap", "imaps", "pop3", "pop3s", "http", "https"].map((n) => `${n} = 0`);
  configFile = join(aDir, "kotakpos.toml");
  writeFileSync(
    configFile,
    [
      `hostname = "mx.a.test"`,
      `[listen]`,
      `address = "127.0.0.1"`,
      `portOffset = 0`,
      `[listen.ports]`,
      `smtp = ${aPort}`,
      `submission = ${submissionPort}`,
      ...others,
      `[auth]`,
      `allowPlaintextOnLoopback = true`,
      `[dns]`,
      `servers = ["${dns.server}"]`,
      `timeout = "1s"`,
      `[delivery]`,
      `port = ${bPort}`,
      `retry = ["1s"]`,
      `warnAfter = ""`,
      `[log]`,
      `level = "error"`,
      "",
    ].join("\n"),
  );
});
afterAll(async () => {
  proc?.kill("SIGKILL");
  await b?.cleanup();
  if (b) rmSync(b.dataDir, { recursive: true, force: true });
  await dns?.close();
  rmSync(aDir, { recursive: true, force: true });
});

async function spawnA(): Promise<void> {
  proc = Bun.spawn([process.execPath, join(ROOT, "main.ts"), "serve", "--data", aDir, "--config", configFile], { stdout: "ignore", stderr: "inherit", cwd: ROOT });
  await waitPort(submissionPort, proc, 20_000);
}

test("kill -9 during a delivery batch: every accepted message arrives after restart", async () => {
  await spawnA();
  const t = nodemailer.createTransport({
    host: "127.0.0.1",
    port: submissionPort,
    secure: false,
    pool: true,
    maxConnections: 4,
    auth: { user: ALICE.address, pass: ALICE.password },
    tls: { rejectUnauthorized: false },
  });
  const accepted: string[] = [];
  await Promise.all(
    Array.from({ length: N }, (_, i) =>
      t.sendMail({ from: ALICE.address, to: BOB.address, subject: `batch ${i}`, text: `message ${i}\n` }).then(
        () => void accepted.push(`batch ${i}`),
        () => {},
      ),
    ),
  );
  t.close();
  expect(accepted.length).toBe(N);
  await until("first deliveries at B", async () => (await inbox(b, BOB.address)).length >= 3);
  proc!.kill("SIGKILL");
  await proc!.exited;
  const atKill = new Set((await inbox(b, BOB.address)).map((m) => /Subject: (batch \d+)/.exec(m)?.[1]));
  expect(atKill.size).toBeLessThan(N); // the kill really happened mid-batch

  await spawnA();
  const arrived = await until(
    "every accepted message at B",
    async () => {
      const subjects = new Set((await inbox(b, BOB.address)).map((m) => /Subject: (batch \d+)/.exec(m)?.[1]));
      return accepted.every((s) => subjects.has(s)) ? subjects : null;
    },
    25_000,
  );
  expect(arrived.size).toBe(N);
  proc!.kill("SIGTERM");
  await proc!.exited;
}, 60_000);
