// The check pool runs checkInbound in worker threads: same results as in-process, a real
// deadline (the worker is terminated), and the event loop stays free while a slow check runs.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { createLogger } from "../../core/log.ts";
import { makeKey, message, signed, type TestKey } from "../../tests/mailauth/fixtures.ts";
import { CheckDeadlineError, createCheckPool, type CheckPool } from "./check-pool.ts";
import type { MailauthResolver } from "./inbound.ts";

let key: TestKey;
let pool: CheckPool;
/** The slow check's own deadline; the pool's is generous (a loaded machine). */
const DEADLINE_MS = 2000;
let lookups = 0;

const resolver: MailauthResolver = async (name, rrtype) => {
  lookups++;
  if (rrtype === "TXT" && name === key.name) return [[key.record]];
  if (rrtype === "TXT" && name === "signer.test") return [["v=spf1 ip4:127.0.0.1 -all"]];
  throw Object.assign(new Error(`${rrtype} ${name}: not found`), { code: "ENOTFOUND" });
};

beforeAll(async () => {
  key = await makeKey("signer.test", "k1", "rsa-sha256");
  pool = createCheckPool({ workers: 2, deadlineMs: 30_000, resolver, log: createLogger("error") });
});
afterAll(() => pool.close());

const input = (raw: Uint8Array) => ({ raw, ip: "127.0.0.1", helo: "mail.signer.test", mailFrom: "a@signer.test", hostname: "mx.example.test" });

/** The longest gap between timer ticks while `p` runs: how long the event loop was blocked. */
async function loopLag<T>(p: Promise<T>): Promise<{ value: T | Error; lagMs: number }> {
  let last = performance.now();
  let lagMs = 0;
  const iv = setInterval(() => {
    const now = performance.now();
    lagMs = Math.max(lagMs, now - last);
    last = now;
  }, 10);
  const value = await p.catch((e: Error) => e);
  clearInterval(iv);
  return { value, lagMs };
}

test("a signed message verifies in the worker, DNS answered by the main thread", async () => {
  const before = lookups;
  const r = await pool.check(input(signed(message("a@signer.test"), [key.key])));
  expect(r.dkim.map((d) => d.status.result)).toEqual(["pass"]);
  expect(r.spf.status.result).toBe("pass");
  expect(r.header).toContain("dkim=pass");
  expect(lookups).toBeGreaterThan(before);
});

test("a check past its deadline is stopped (worker terminated); the loop is never blocked; the pool goes on", async () => {
  // One 2 MB field: mailauth's DKIM canonicalisation of it takes many seconds of CPU.
  const to = "To: " + Array.from({ length: 70_000 }, (_, i) => `u${i}@example.test`).join(",\r\n ") + "\r\n";
  const raw = Buffer.concat([Buffer.from(`DKIM-Signature: v=1; a=rsa-sha256; d=signer.test; s=k1; h=from:to; bh=x; b=x\r\n${to}`), message("a@signer.test")]);
  const t0 = performance.now();
  const { value, lagMs } = await loopLag(pool.check(input(raw), undefined, DEADLINE_MS));
  const ms = performance.now() - t0;
  console.log(`slow check: stopped after ${Math.round(ms)} ms, longest event-loop stall ${Math.round(lagMs)} ms`);
  expect(value).toBeInstanceOf(CheckDeadlineError);
  expect(ms).toBeGreaterThanOrEqual(DEADLINE_MS);
  expect(ms).toBeLessThan(DEADLINE_MS + 3000);
  expect(lagMs).toBeLessThan(1000);
  const r = await pool.check(input(signed(message("a@signer.test"), [key.key])));
  expect(r.dkim[0]?.status.result).toBe("pass");
}, 20_000);

test("an aborted check (the hook timeout) terminates its worker too", async () => {
  const to = "To: " + Array.from({ length: 70_000 }, (_, i) => `u${i}@example.test`).join(",\r\n ") + "\r\n";
  const ac = new AbortController();
  const p = pool.check(input(Buffer.from(`${to}From: a@signer.test\r\n\r\nx\r\n`)), ac.signal);
  setTimeout(() => ac.abort(), 200);
  expect(await p.catch((e: Error) => e)).toBeInstanceOf(CheckDeadlineError);
});

test("workers keep the main resolver's cached answers (hits and not-found) as long as it does, no longer", async () => {
  const until = Date.now() + 60_000;
  const asked: string[] = [];
  const counting: MailauthResolver = (name, rrtype) => {
    asked.push(`${rrtype} ${name}`);
    return resolver(name, rrtype);
  };
  const p = createCheckPool({ workers: 1, deadlineMs: 30_000, resolver: counting, cachedUntil: () => until, log: createLogger("error") });
  try {
    const raw = signed(message("a@signer.test"), [key.key]);
    const first = await p.check(input(raw));
    const firstAsked = asked.length;
    expect(firstAsked).toBeGreaterThan(0);
    expect(asked).toContain("TXT _dmarc.signer.test"); // not found: cached as such
    const second = await p.check(input(raw));
    expect(asked.length).toBe(firstAsked); // every question answered from the worker's copy
    expect(second.header).toBe(first.header);
    expect(second.dkim.map((d) => d.status.result)).toEqual(["pass"]);
    expect(second.dmarc?.status.result).toBe(first.dmarc?.status.result);
  } finally {
    p.close();
  }
  // Answers the main thread keeps 200 ms: the worker asks again after that.
  const short = createCheckPool({ workers: 1, deadlineMs: 30_000, resolver: counting, cachedUntil: () => Date.now() + 200, log: createLogger("error") });
  try {
    const raw = signed(message("a@signer.test"), [key.key]);
    const before = asked.length;
    const a = await short.check(input(raw));
    const mid = asked.length;
    expect(mid).toBeGreaterThan(before);
    await Bun.sleep(300);
    const b = await short.check(input(raw));
    expect(asked.length - mid).toBe(mid - before);
    expect(b.header).toBe(a.header);
  } finally {
    short.close();
  }
});
