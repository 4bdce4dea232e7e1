import { describe, expect, test } from "bun:test";
import { createFailureLimiter } from "./auth.ts";

describe("failure limiter", () => {
  test("blocks after max failures within the window, forgets old ones", () => {
    const l = createFailureLimiter(3, 1000);
    for (let i = 0; i < 3; i++) {
      expect(l.blocked("1.2.3.4", 100)).toBe(false);
      l.fail("1.2.3.4", 100 + i);
    }
    expect(l.blocked("1.2.3.4", 200)).toBe(true);
    expect(l.blocked("5.6.7.8", 200)).toBe(false);
    expect(l.blocked("1.2.3.4", 1200)).toBe(false);
  });
});
