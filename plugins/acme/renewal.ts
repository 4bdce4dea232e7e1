// When to renew and when to retry: at two-thirds of the lifetime plus a jitter (so many
// servers with same-day certificates do not hit the CA together), exponential backoff
// after failures, the CA's Retry-After when it gave one, a day after a permanent refusal.
import { createHash } from "node:crypto";

const MINUTE = 60_000;
const DAY = 86_400_000;

/** Renewal time of a certificate valid from notBefore to notAfter. The jitter (up to 1/18
 *  of the lifetime: 5 days of Let's Encrypt's 90) comes from the certificate itself, so
 *  it stays put across restarts and differs between servers. */
export function renewAt(notBefore: number, notAfter: number, certPem: string): number {
  const life = Math.max(0, notAfter - notBefore);
  const h = createHash("sha256").update(certPem).digest().readUInt32BE(0) / 0x1_0000_0000;
  return Math.round(notBefore + (life * 2) / 3 + h * (life / 18));
}

/** Wait before try number `failures + 1`: 1 min, 2, 4 … capped at a day, ±10 %. */
export function backoffMs(failures: number, opts: { retryAfterSec?: number; permanent?: boolean; random?: () => number } = {}): number {
  if (opts.permanent) return DAY;
  const rnd = opts.random ?? Math.random;
  const base = Math.min(DAY, MINUTE * 2 ** Math.max(0, failures - 1));
  const jittered = base * (0.9 + 0.2 * rnd());
  return Math.round(Math.max(jittered, (opts.retryAfterSec ?? 0) * 1000));
}

/** A name whose self-check failed is checked again after this long (no CA contact). */
export const SKIP_RETRY_MS = 5 * MINUTE;
