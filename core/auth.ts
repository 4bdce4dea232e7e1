// The default `auth` handler (the store's argon2id check) and the per-IP / per-account
// failure limiter that guards every protocol (DESIGN.md "Security rules").
import type { Store } from "./store/types.ts";
import type { Hooks, Reply } from "./types.ts";
import { authFailures } from "./metrics.ts";

const WINDOW_MS = 5 * 60_000;

/** Counts failures per key in a sliding window. */
export function createFailureLimiter(max: number, windowMs = WINDOW_MS) {
  const hits = new Map<string, number[]>();
  const recent = (key: string, now: number) => (hits.get(key) ?? []).filter((t) => now - t < windowMs);
  return {
    blocked(key: string, now = Date.now()): boolean {
      const r = recent(key, now);
      if (r.length === 0) hits.delete(key);
      else hits.set(key, r);
      return r.length >= max;
    },
    fail(key: string, now = Date.now()): void {
      const r = recent(key, now);
      r.push(now);
      hits.set(key, r);
    },
    clear(key: string): void {
      hits.delete(key);
    },
  };
}

export const TOO_MANY_FAILURES: Reply = { code: 421, enhanced: "4.7.0", text: "Too many failed logins; try again later" };
export const BAD_CREDENTIALS: Reply = { code: 535, enhanced: "5.7.8", text: "Authentication credentials invalid" };

/** Registers the limiter (runs before plugins' auth handlers) and the store check (runs last). */
export function registerDefaultAuth(hooks: Hooks, store: Store, maxFailuresPerIp: number): void {
  const byIp = createFailureLimiter(maxFailuresPerIp);
  // An account under attack from many IPs is slowed too (a looser bound than per IP).
  const byAccount = createFailureLimiter(maxFailuresPerIp * 3);
  hooks.on(
    "auth",
    (conn, cred) => {
      const ip = conn?.remoteAddress ?? "local";
      if (byIp.blocked(ip) || byAccount.blocked(cred.username.toLowerCase())) return { kind: "reject", reply: TOO_MANY_FAILURES };
      return { kind: "pass" };
    },
    { plugin: "core" },
  );
  hooks.on(
    "auth",
    async (conn, cred) => {
      const ip = conn?.remoteAddress ?? "local";
      // A SASL authzid other than the authcid would mean proxy auth: not supported.
      const acct = cred.authzid && cred.authzid.toLowerCase() !== cred.username.toLowerCase() ? null : await store.verifyPassword(cred.username, cred.password);
      if (!acct || acct.disabled) {
        byIp.fail(ip);
        byAccount.fail(cred.username.toLowerCase());
        conn?.log.info("auth failed", { user: cred.username, mech: cred.mechanism });
        authFailures.inc({ service: conn?.service ?? "web" });
        return { kind: "reject", reply: BAD_CREDENTIALS };
      }
      conn?.log.info("auth ok", { user: acct.address, mech: cred.mechanism });
      return { kind: "user", user: { accountId: acct.id, address: acct.address } };
    },
    { plugin: "core", last: true },
  );
}
