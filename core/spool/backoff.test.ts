import { expect, test } from "bun:test";
import { expired, nextAttemptAt, type Schedule } from "./backoff.ts";

const s: Schedule = { retry: [60_000, 300_000], maxAge: 3_600_000, warnAfter: 0 };

test("each attempt waits its configured delay, the last one repeats", () => {
  const t0 = 1_000_000;
  expect(nextAttemptAt(s, 1, t0, t0)).toBe(t0 + 60_000);
  expect(nextAttemptAt(s, 2, t0, t0 + 10)).toBe(t0 + 10 + 300_000);
  expect(nextAttemptAt(s, 9, t0, t0 + 20)).toBe(t0 + 20 + 300_000);
});

test("no retry is scheduled past maxAge; expiry", () => {
  const t0 = 1_000_000;
  const late = t0 + 3_500_000;
  expect(nextAttemptAt(s, 5, t0, late)).toBe(t0 + 3_600_000);
  expect(expired(s, t0, t0 + 3_599_999)).toBe(false);
  expect(expired(s, t0, t0 + 3_600_000)).toBe(true);
});
