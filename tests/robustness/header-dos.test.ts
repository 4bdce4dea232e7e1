// Issue 11 item 1, as an attacker sends it: huge header sections on port 25 of the compiled
// binary. Each is answered quickly (refused by the header bounds before any check runs),
// another client is greeted meanwhile, and SIGTERM still stops the server. With the bounds
// raised, the slow DKIM verification of a 2 MB field runs in a worker thread: greetings and
// SIGTERM are not held up by it.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildBinary, freeOffset, run, serve, type Served } from "../helpers/binary.ts";
import { startTestDns, type TestDns } from "../helpers/dns-server.ts";
import { raw } from "../helpers/smtp.ts";

const tmp = mkdtempSync(join(tmpdir(), "kotakpos-dos-"));
let bin = "";
let dns: TestDns;

beforeAll(async () => {
  bin = await buildBinary(join(tmp, "kotakpos"));
  dns = await startTestDns();
}, 120_000);
afterAll(async () => {
  await dns?.close();
  rmSync(tmp, { recursive: true, force: true });
});

/** A data dir with a local user and the test DNS, then `serve` on a free port offset. */
async function start(name: string, limits = ""): Promise<{ s: Served; smtp: number }> {
  const data = join(tmp, name);
  mkdirSync(data);
  writeFileSync(join(data, "kotakpos.toml"), `hostname = "mx.example.test"\n[dns]\nservers = ["${dns.server}"]\n[limits]\n${limits}\n`);
  const k = (args: string[], stdin?: string) => run(bin, [...args, "--data", data], { cwd: tmp, stdin });
  expect((await k(["domain", "add", "example.test"])).code).toBe(0);
  expect((await k(["user", "add", "alice@example.test", "--password-stdin"], "pw\n")).code).toBe(0);
  const offset = await freeOffset();
  const s = await serve(bin, ["--data", data, "--port-offset", String(offset), "--listen", "127.0.0.1"], { cwd: tmp });
  return { s, smtp: offset + 25 };
}

/** Ms from connect to the 220 greeting. */
async function greetingMs(port: number): Promise<number> {
  const t0 = performance.now();
  const c = await raw(port);
  const [g] = await c.replies(1);
  const ms = performance.now() - t0;
  expect(g).toStartWith("220 ");
  c.send("QUIT\r\n");
  return ms;
}

/** A To: field of about `bytes`, folded every ~30 bytes (one long logical field). */
function hugeTo(bytes: number): Buffer {
  const unit = "user00000@example.test,\r\n ";
  const n = Math.ceil(bytes / unit.length);
  return Buffer.from(`To: ${unit.repeat(n)}last@example.test\r\n`, "latin1");
}

interface Attack {
  replyMs: number;
  reply: string;
  otherGreetingMs: number;
}

/** Send MAIL/RCPT/DATA, then a message whose header section holds `header`; time the reply
 *  to the final dot and, meanwhile, another client's greeting. */
async function attack(port: number, header: Buffer): Promise<Attack> {
  const c = await raw(port);
  await c.replies(1);
  c.send("EHLO attacker.test\r\nMAIL FROM:<x@attacker.test>\r\nRCPT TO:<alice@example.test>\r\nDATA\r\n");
  const r = await c.replies(4);
  expect(r.at(-1)).toStartWith("354 ");
  await c.sendAll(Buffer.concat([Buffer.from("From: x@attacker.test\r\n"), header, Buffer.from("Subject: dos\r\n\r\nbody\r\n.\r\n")]));
  const t0 = performance.now();
  const other = greetingMs(port);
  const [reply] = await c.replies(1);
  const replyMs = performance.now() - t0;
  c.send("QUIT\r\n");
  return { replyMs, reply: reply ?? "(none)", otherGreetingMs: await other };
}

describe("huge header sections on port 25 (default bounds)", () => {
  let srv: { s: Served; smtp: number };
  beforeAll(async () => {
    srv = await start("bounded");
  }, 60_000);
  afterAll(() => srv?.s.proc.kill("SIGKILL"));

  for (const [label, bytes, expected] of [
    ["4 MB folded To: field", 4 * 1024 * 1024, /^552 5\.3\.4 Message header section too large/],
    ["50 MB folded To: field", 50_000_000, /^552 5\.3\.4 Message header section too large/],
    ["200 KB To: field", 200 * 1024, /^554 5\.6\.0 Header field To too long/],
  ] as const) {
    test(`${label}: refused within 2 s; another client is greeted within 1 s`, async () => {
      const a = await attack(srv.smtp, hugeTo(bytes));
      console.log(`${label}: "${a.reply}" after ${a.replyMs.toFixed(0)} ms; other client's greeting after ${a.otherGreetingMs.toFixed(0)} ms`);
      expect(a.reply).toMatch(expected);
      expect(a.replyMs).toBeLessThan(2000);
      expect(a.otherGreetingMs).toBeLessThan(1000);
    }, 60_000);
  }

  test("SIGTERM still stops the server (exit 0)", async () => {
    const { code, ms } = await srv.s.signal("SIGTERM");
    console.log(`SIGTERM after the attacks: exit ${code} in ${ms.toFixed(0)} ms`);
    expect(code).toBe(0);
  }, 30_000);
});

describe("a slow DKIM check (bounds raised) runs off the event loop", () => {
  let srv: { s: Served; smtp: number };
  beforeAll(async () => {
    srv = await start("raised", "maxHeaderSection = 8388608\nmaxHeaderField = 8388608");
  }, 60_000);
  afterAll(() => srv?.s.proc.kill("SIGKILL"));

  test("a 2 MB signed field under verification: greetings within 1 s, SIGTERM exits while it runs", async () => {
    const c = await raw(srv.smtp);
    await c.replies(1);
    c.send("EHLO attacker.test\r\nMAIL FROM:<x@attacker.test>\r\nRCPT TO:<alice@example.test>\r\nDATA\r\n");
    await c.replies(4);
    c.send(
      Buffer.concat([
        Buffer.from("DKIM-Signature: v=1; a=rsa-sha256; d=attacker.test; s=s1; h=from:to; bh=x; b=x\r\nFrom: x@attacker.test\r\n"),
        hugeTo(2 * 1024 * 1024),
        Buffer.from("\r\nbody\r\n.\r\n"),
      ]),
    );
    await Bun.sleep(500); // the check is running now
    const greetings: number[] = [];
    for (let i = 0; i < 3; i++) {
      greetings.push(await greetingMs(srv.smtp));
      await Bun.sleep(300);
    }
    console.log(`greetings during the check: ${greetings.map((g) => g.toFixed(0)).join(", ")} ms`);
    // The message is still being checked: its last reply is still the 354.
    expect(
      c.received
        .split("\r\n")
        .filter((l) => /^\d{3} /.test(l))
        .at(-1),
    ).toStartWith("354 ");
    for (const g of greetings) expect(g).toBeLessThan(1000);
    const { code, ms } = await srv.s.signal("SIGTERM");
    console.log(`SIGTERM during the check: exit ${code} in ${ms.toFixed(0)} ms`);
    expect([0, 1]).toContain(code);
    expect(ms).toBeLessThan(10_000);
  }, 60_000);
});
