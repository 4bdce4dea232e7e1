// Logins for every protocol (SMTP, IMAP, POP3, web): the `auth` hook's two core handlers.
//   first: the login name is made canonical once (names that are not canonical are refused,
//          never fixed up), then the limiter decides whether this attempt may be checked;
//          every later handler (plugins: app passwords …) sees the canonical name.
//   last:  the store's argon2id check, which records the outcome in the limiter.
// The limiter (login-limiter.ts) keeps its state in the database across restarts.
import type { Db } from "./db/open.ts";
import { createLoginLimiter, type LoginLimiter } from "./login-limiter.ts";
import { normalizeAddress } from "./store/names.ts";
import type { Store } from "./store/types.ts";
import type { Hooks, Logger, Reply } from "./types.ts";
import { authFailures } from "./metrics.ts";

export const BAD_CREDENTIALS: Reply = { code: 535, enhanced: "5.7.8", text: "Authentication credentials invalid" };

/** The canonical login name ("local@domain", lower case, domain in U-label form), or null
 *  when `name` is not already written that way apart from letter case: surrounding or inner
 *  white space, a trailing dot, control characters, no "@". One spelling per account means
 *  one limiter key per account (issue 11: "alice@x." and " alice@x" bypassed it). */
export function loginName(name: string): string | null {
  if (!name || name.length > 320 || /[\s\x00-\x1f\x7f]/u.test(name) || name.endsWith(".")) return null;
  let n: { address: string };
  try {
    n = normalizeAddress(name);
  } catch {
    return null;
  }
  // Only letter case (and the IDN form of the domain) may differ from the canonical form.
  const at = name.lastIndexOf("@");
  if (name.slice(0, at).toLowerCase() !== n.address.slice(0, n.address.lastIndexOf("@"))) return null;
  return n.address;
}

export interface DefaultAuthOptions {
  db: Db;
  /** Failures per IP address in the window before that address is refused. */
  maxFailuresPerIp: number;
  log: Logger;
}

/** Registers the canonical-name + limiter gate (before plugins' auth handlers) and the
 *  store's password check (after them). Returns the limiter (tests, the admin side). */
export function registerDefaultAuth(hooks: Hooks, store: Store, opts: DefaultAuthOptions): LoginLimiter {
  const limiter = createLoginLimiter(opts.db, { maxFailuresPerIp: opts.maxFailuresPerIp, log: opts.log });
  hooks.on(
    "auth",
    async (conn, cred) => {
      const ip = conn?.remoteAddress ?? "local";
      const name = loginName(cred.username);
      if (!name) {
        conn?.log.info("auth refused: login name not canonical", { user: cred.username.slice(0, 100), mech: cred.mechanism });
        await limiter.failed(ip, null);
        return { kind: "reject", reply: BAD_CREDENTIALS };
      }
      cred.username = name;
      const gate = await limiter.check(ip, name);
      if (gate) {
        // Hammering a slowed-down account counts against the address doing it.
        if (gate.code !== 421) await limiter.failed(ip, null);
        conn?.log.info("auth refused by the limiter", { user: name, ip, reason: gate.text });
        return { kind: "reject", reply: gate };
      }
      return { kind: "pass" };
    },
    { plugin: "core" },
  );
  hooks.on(
    "auth",
    async (conn, cred) => {
      const ip = conn?.remoteAddress ?? "local";
      // A SASL authzid other than the authcid would mean proxy auth: not supported.
      const acct = cred.authzid && cred.authzid.toLowerCase() !== cred.username ? null : await store.verifyPassword(cred.username, cred.password);
      if (!acct || acct.disabled) {
        await limiter.failed(ip, cred.username);
        conn?.log.info("auth failed", { user: cred.username, mech: cred.mechanism });
        authFailures.inc({ service: conn?.service ?? "web" });
        return { kind: "reject", reply: BAD_CREDENTIALS };
      }
      await limiter.succeeded(ip, acct.address);
      conn?.log.info("auth ok", { user: acct.address, mech: cred.mechanism });
      return { kind: "user", user: { accountId: acct.id, address: acct.address } };
    },
    { plugin: "core", last: true },
  );
  return limiter;
}
