import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loginName } from "./auth.ts";
import { openDb, type Db } from "./db/open.ts";
import { createLogger } from "./log.ts";
import { accountDelayMs, ACCOUNT_FREE, ACCOUNT_MAX_DELAY_MS, createLoginLimiter, IP_WINDOW_MS } from "./login-limiter.ts";

describe("loginName: one canonical spelling, others refused", () => {
  test("letter case and the IDN form are canonicalized", () => {
    expect(loginName("alice@local.test")).toBe("alice@local.test");
    expect(loginName("Alice@LOCAL.test")).toBe("alice@local.test");
    expect(loginName("a@xn--bcher-kva.test")).toBe("a@bücher.test");
  });
  test("a trailing dot, white space anywhere, control characters, no @: null", () => {
    for (const n of ["alice@local.test.", " alice@local.test", "alice@local.test ", "alice @local.test", "alice@local.test\t", "alice@local.test\0", "alice", "@local.test", "alice@", ""]) {
      expect(loginName(n)).toBeNull();
    }
  });
});

test("the account delay doubles after the free failures, up to the cap", () => {
  expect(accountDelayMs(ACCOUNT_FREE - 1)).toBe(0);
  expect(accountDelayMs(ACCOUNT_FREE)).toBe(5000);
  expect(accountDelayMs(ACCOUNT_FREE + 3)).toBe(40_000);
  expect(accountDelayMs(ACCOUNT_FREE + 40)).toBe(ACCOUNT_MAX_DELAY_MS);
});

describe("login limiter (database)", () => {
  let dir: string;
  let db: Db;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "kotakpos-limiter-"));
    db = await openDb({ url: `file:${join(dir, "t.db")}` });
  });
  afterAll(async () => {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test("per IP: refused after max failures, for the window after the last one", async () => {
    const l = createLoginLimiter(db, { maxFailuresPerIp: 3, log: createLogger("error") });
    const t = Date.now();
    for (let i = 0; i < 3; i++) {
      expect(await l.check("10.0.0.1", `u${i}@a.test`, t)).toBeNull();
      await l.failed("10.0.0.1", `u${i}@a.test`, t + i);
    }
    expect((await l.check("10.0.0.1", "x@a.test", t + 10))?.code).toBe(421);
    expect(await l.check("10.0.0.2", "x@a.test", t + 10)).toBeNull();
    expect(await l.check("10.0.0.1", "x@a.test", t + 2 + IP_WINDOW_MS)).toBeNull();
    l.close();
  });

  test("per account: slowed down from unknown addresses, not from one it logged in from; state in the database", async () => {
    const l = createLoginLimiter(db, { maxFailuresPerIp: 1000, log: createLogger("error") });
    const t = Date.now() + 10_000;
    await l.succeeded("10.1.0.1", "bob@a.test", t);
    for (let i = 0; i < ACCOUNT_FREE + 2; i++) await l.failed(`10.2.0.${i % 3}`, "bob@a.test", t + i);
    const last = t + ACCOUNT_FREE + 1;
    const r = await l.check("10.3.0.1", "bob@a.test", last + 100);
    expect(r?.code).toBe(454);
    expect(r?.text).toMatch(/try again in \d+ s/);
    expect(await l.check("10.1.0.1", "bob@a.test", last + 100)).toBeNull();
    // After the delay one attempt may go through; a parallel one waits for its outcome.
    const after = last + accountDelayMs(ACCOUNT_FREE + 2) + 1;
    expect(await l.check("10.3.0.1", "bob@a.test", after)).toBeNull();
    expect((await l.check("10.3.0.2", "bob@a.test", after))?.code).toBe(454);
    l.close();
    // A new limiter on the same database (a restart) remembers.
    const again = createLoginLimiter(db, { maxFailuresPerIp: 1000, log: createLogger("error") });
    expect((await again.check("10.3.0.1", "bob@a.test", last + 100))?.code).toBe(454);
    expect(await again.check("10.1.0.1", "bob@a.test", last + 100)).toBeNull();
    again.close();
  });
});
