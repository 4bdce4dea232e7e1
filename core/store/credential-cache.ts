// Verified logins, remembered for a short while, so a client that logs in again and again
// (IMAP clients open a connection per folder; mobile clients poll) costs one indexed read
// instead of an argon2id verify each time — Dovecot's auth_cache, made safe:
//   - the key is an HMAC-SHA256 under a random per-process key of the address, the
//     account's stored password hash and the password: no password or reusable hash is
//     kept, and a password change (new stored hash) misses by construction;
//   - the caller checks `disabled` on the row it just read, so disabling is immediate;
//   - only successes are remembered (a wrong password always costs the full verify);
//   - entries expire after `ttlMs` and the oldest go first past `maxEntries`.
import { createHmac, randomBytes } from "node:crypto";

export interface CredentialCache {
  has(address: string, storedHash: string, password: string): boolean;
  remember(address: string, storedHash: string, password: string): void;
  clear(): void;
  readonly size: number;
}

export function createCredentialCache(opts: { ttlMs?: number; maxEntries?: number; now?: () => number } = {}): CredentialCache {
  const ttl = opts.ttlMs ?? 5 * 60_000;
  const max = opts.maxEntries ?? 10_000;
  const now = opts.now ?? Date.now;
  const secret = randomBytes(32);
  const entries = new Map<string, number>(); // key → expiry; insertion order = age
  const keyOf = (address: string, storedHash: string, password: string) => createHmac("sha256", secret).update(address).update("\0").update(storedHash).update("\0").update(password).digest("base64");
  return {
    has(address, storedHash, password) {
      const k = keyOf(address, storedHash, password);
      const until = entries.get(k);
      if (until === undefined) return false;
      if (until <= now()) {
        entries.delete(k);
        return false;
      }
      return true;
    },
    remember(address, storedHash, password) {
      const k = keyOf(address, storedHash, password);
      entries.delete(k);
      entries.set(k, now() + ttl);
      while (entries.size > max) entries.delete(entries.keys().next().value!);
    },
    clear: () => entries.clear(),
    get size() {
      return entries.size;
    },
  };
}
