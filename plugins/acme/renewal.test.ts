import { describe, expect, test } from "bun:test";
import { backoffMs, renewAt } from "./renewal.ts";

const DAY = 86_400_000;

describe("renewal timing", () => {
  test("renews between 2/3 and 2/3 + 1/18 of the lifetime, the same for the same certificate", () => {
    const nb = Date.UTC(2026, 0, 1);
    const na = nb + 90 * DAY;
    for (const pem of ["a", "b", "c", "d"]) {
      const t = renewAt(nb, na, pem);
      expect(t).toBeGreaterThanOrEqual(nb + 60 * DAY);
      expect(t).toBeLessThan(nb + 65 * DAY);
      expect(renewAt(nb, na, pem)).toBe(t);
    }
    expect(new Set(["a", "b", "c", "d", "e"].map((p) => renewAt(nb, na, p))).size).toBeGreaterThan(1);
  });

  test("backoff doubles from a minute, caps at a day, honours Retry-After, a day after a permanent error", () => {
    const mid = () => 0.5;
    expect(backoffMs(1, { random: mid })).toBe(60_000);
    expect(backoffMs(2, { random: mid })).toBe(120_000);
    expect(backoffMs(5, { random: mid })).toBe(16 * 60_000);
    expect(backoffMs(40, { random: mid })).toBe(DAY);
    expect(backoffMs(1, { random: mid, retryAfterSec: 3600 })).toBe(3_600_000);
    expect(backoffMs(1, { permanent: true })).toBe(DAY);
    expect(backoffMs(3, { random: () => 0 })).toBe(216_000);
  });
});
