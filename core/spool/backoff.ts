// Retry timing: `delivery.retry` gives the delay before each retry (the last one
// repeats), `delivery.maxAge` ends the attempts, `delivery.warnAfter` the delay warning.
import { durationMs, type Config } from "../config.ts";

export interface Schedule {
  retry: number[];
  maxAge: number;
  /** 0 = no delay warnings. */
  warnAfter: number;
}

export function scheduleFrom(config: Config): Schedule {
  const d = config.delivery;
  const retry = d.retry.map(durationMs);
  return {
    retry: retry.length ? retry : [60_000],
    maxAge: durationMs(d.maxAge),
    warnAfter: d.warnAfter && /^\d+(ms|s|m|h|d)$/.test(d.warnAfter) ? durationMs(d.warnAfter) : 0,
  };
}

/** When to try again if attempt number `attempt` (1-based) fails; written before the
 *  attempt so a crash does not cause a tight retry loop. Never later than the expiry. */
export function nextAttemptAt(s: Schedule, attempt: number, createdAt: number, now: number): number {
  const delay = s.retry[Math.min(attempt - 1, s.retry.length - 1)]!;
  const expiry = createdAt + s.maxAge;
  return Math.max(Math.min(now + delay, expiry), now + Math.min(delay, 1000));
}

export function expired(s: Schedule, createdAt: number, now: number): boolean {
  return now >= createdAt + s.maxAge;
}
