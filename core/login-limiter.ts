// The login limiter, kept in the database so a restart forgets nothing (rows expire):
// - per IP address: after maxFailuresPerIp failures that address is refused until
//   IP_WINDOW_MS have passed since its last failure (it only locks out itself);
// - per account: after ACCOUNT_FREE failures each further attempt must wait longer
//   (5 s, 10 s, 20 s … up to ACCOUNT_MAX_DELAY_MS after the last failure): guessing slows
//   to a crawl, but the owner is only slowed, and not at all from an address where they
//   logged in successfully before (their phone, their office NAT).
import type { Db } from "./db/open.ts";
import type { Logger, Reply } from "./types.ts";

export const IP_WINDOW_MS = 5 * 60_000;
/** Failures of one account before the slow-down starts. */
export const ACCOUNT_FREE = 10;
const ACCOUNT_BASE_DELAY_MS = 5_000;
export const ACCOUNT_MAX_DELAY_MS = 15 * 60_000;
/** An account's failures are forgotten this long after the last one. */
const ACCOUNT_RESET_MS = 60 * 60_000;
/** Rows expire: failures a day after the last one, known addresses after 30 days unused. */
const FAILURE_TTL_MS = 24 * 60 * 60_000;
const KNOWN_TTL_MS = 30 * 24 * 60 * 60_000;
const KNOWN_REFRESH_MS = 60 * 60_000;
/** While an attempt on a slowed-down account is being checked, others wait (no parallel guessing). */
const IN_FLIGHT_MS = 10_000;

export interface LoginLimiter {
  /** A refusal when this attempt may not be checked now; null to go on. */
  check(ip: string, account: string, now?: number): Promise<Reply | null>;
  /** A failed attempt (account null: the name was unusable; only the IP counts). */
  failed(ip: string, account: string | null, now?: number): Promise<void>;
  succeeded(ip: string, account: string, now?: number): Promise<void>;
  /** Delete expired rows (also run at start and hourly). */
  prune(now?: number): Promise<void>;
  close(): void;
}

/** The wait after `failures` failures of one account (0 while under ACCOUNT_FREE). */
export function accountDelayMs(failures: number): number {
  if (failures < ACCOUNT_FREE) return 0;
  return Math.min(ACCOUNT_MAX_DELAY_MS, ACCOUNT_BASE_DELAY_MS * 2 ** Math.min(30, failures - ACCOUNT_FREE));
}

export const TOO_MANY_FROM_IP: Reply = { code: 421, enhanced: "4.7.0", text: "Too many failed logins from your address; try again later" };

const ipKey = (ip: string) => `ip:${ip}`;
const acctKey = (a: string) => `acct:${a}`;

export function createLoginLimiter(db: Db, opts: { maxFailuresPerIp: number; log: Logger }): LoginLimiter {
  const inFlight = new Map<string, number>();

  async function row(key: string): Promise<{ failures: number; last: number } | null> {
    const r = await db.query({ sql: "SELECT failures, last_failure FROM auth_failures WHERE key = ?", args: [key] });
    const x = r.rows[0];
    return x ? { failures: Number(x.failures), last: Number(x.last_failure) } : null;
  }

  /** Limiter writes are best effort: a full disk (read-only database) must not stop logins. */
  async function softly(what: string, fn: () => Promise<unknown>): Promise<void> {
    try {
      await fn();
    } catch (err) {
      opts.log.warn(`login limiter: could not record ${what}`, { err: (err as Error)?.message });
    }
  }

  /** One failure for each key, in one transaction (one fsync). A key's count restarts
   *  when its last failure is older than its reset time. */
  async function bump(keys: [key: string, resetMs: number][], now: number): Promise<void> {
    await softly("a failure", () =>
      db.write(async (tx) => {
        for (const [key, resetMs] of keys) {
          await tx.execute({
            sql: `INSERT INTO auth_failures (key, failures, last_failure) VALUES (?, 1, ?)
                  ON CONFLICT(key) DO UPDATE SET failures = CASE WHEN ? - last_failure >= ? THEN 1 ELSE failures + 1 END, last_failure = excluded.last_failure`,
            args: [key, now, now, resetMs],
          });
        }
      }),
    );
  }

  async function known(account: string, ip: string, now: number): Promise<boolean> {
    const r = await db.query({ sql: "SELECT last_success FROM auth_known_addresses WHERE account = ? AND ip = ?", args: [account, ip] });
    return r.rows.length > 0 && now - Number(r.rows[0]!.last_success) < KNOWN_TTL_MS;
  }

  const limiter: LoginLimiter = {
    async check(ip, account, now = Date.now()) {
      const byIp = await row(ipKey(ip));
      if (byIp && byIp.failures >= opts.maxFailuresPerIp && now - byIp.last < IP_WINDOW_MS) {
        return TOO_MANY_FROM_IP;
      }
      const byAcct = await row(acctKey(account));
      if (!byAcct || now - byAcct.last >= ACCOUNT_RESET_MS || byAcct.failures < ACCOUNT_FREE) return null;
      if (await known(account, ip, now)) return null;
      const waitMs = byAcct.last + accountDelayMs(byAcct.failures) - now;
      const busy = (inFlight.get(account) ?? 0) > now;
      if (waitMs > 0 || busy) {
        const s = Math.max(1, Math.ceil(Math.max(waitMs, 1000) / 1000));
        return { code: 454, enhanced: "4.7.0", text: `Too many failed logins for this account; try again in ${s} s` };
      }
      inFlight.set(account, now + IN_FLIGHT_MS);
      return null;
    },
    async failed(ip, account, now = Date.now()) {
      if (account !== null) inFlight.delete(account);
      await bump([[ipKey(ip), IP_WINDOW_MS], ...(account === null ? [] : [[acctKey(account), ACCOUNT_RESET_MS] as [string, number]])], now);
    },
    async succeeded(ip, account, now = Date.now()) {
      inFlight.delete(account);
      // A login from a known address refreshes its row at most hourly (no write, no fsync, per login).
      const r = await db.query({ sql: "SELECT last_success FROM auth_known_addresses WHERE account = ? AND ip = ?", args: [account, ip] });
      if (r.rows.length > 0 && now - Number(r.rows[0]!.last_success) < KNOWN_REFRESH_MS) return;
      await softly("a login", () =>
        db.write((tx) =>
          tx.execute({
            sql: `INSERT INTO auth_known_addresses (account, ip, last_success) VALUES (?, ?, ?)
                ON CONFLICT(account, ip) DO UPDATE SET last_success = excluded.last_success`,
            args: [account, ip, now],
          }),
        ),
      );
    },
    async prune(now = Date.now()) {
      await db.write(async (tx) => {
        await tx.execute({ sql: "DELETE FROM auth_failures WHERE last_failure < ?", args: [now - FAILURE_TTL_MS] });
        await tx.execute({ sql: "DELETE FROM auth_known_addresses WHERE last_success < ?", args: [now - KNOWN_TTL_MS] });
      });
      for (const [k, until] of inFlight) if (until <= now) inFlight.delete(k);
    },
    close() {
      clearInterval(timer);
    },
  };
  const prune = () => limiter.prune().catch((err: unknown) => opts.log.warn("login limiter prune failed", { err: (err as Error)?.message }));
  void prune();
  const timer = setInterval(prune, 60 * 60_000);
  timer.unref?.();
  return limiter;
}
