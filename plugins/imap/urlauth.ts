// URLAUTH (RFC 4467) keys and tokens: each mailbox has a random access key (kept with the
// METADATA rows under a name no entry can have, so GETMETADATA never shows it); the
// INTERNAL token of a URL is HMAC-SHA-256 of its "rump" (everything up to and including
// ";URLAUTH=<access>") under that key. RESETKEY makes every earlier token invalid.
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { and, eq, like } from "drizzle-orm";
import type { Db } from "../../core/db/open.ts";
import { imapMetadata } from "../../core/db/schema.ts";

const KEY_ENTRY = "urlauth-key";

export async function accessKey(db: Db, accountId: number, mailboxId: number, create: boolean): Promise<string | null> {
  const where = and(eq(imapMetadata.accountId, accountId), eq(imapMetadata.mailboxId, mailboxId), eq(imapMetadata.entry, KEY_ENTRY));
  const [row] = await db.orm.select({ value: imapMetadata.value }).from(imapMetadata).where(where);
  if (row || !create) return row?.value ?? null;
  const value = randomBytes(32).toString("hex");
  await db.write((tx) => tx.orm.insert(imapMetadata).values({ accountId, mailboxId, entry: KEY_ENTRY, value }).onConflictDoNothing());
  return (await db.orm.select({ value: imapMetadata.value }).from(imapMetadata).where(where))[0]!.value;
}

/** RESETKEY: one mailbox's key, or all of the account's (mailboxId null). */
export async function resetKeys(db: Db, accountId: number, mailboxId: number | null): Promise<void> {
  const base = and(eq(imapMetadata.accountId, accountId), like(imapMetadata.entry, KEY_ENTRY));
  await db.write((tx) => tx.orm.delete(imapMetadata).where(mailboxId === null ? base : and(base, eq(imapMetadata.mailboxId, mailboxId))));
}

export function token(key: string, rump: string): string {
  return createHmac("sha256", Buffer.from(key, "hex")).update(rump).digest("hex");
}

export function tokenMatches(key: string, rump: string, given: string): boolean {
  const want = Buffer.from(token(key, rump));
  const got = Buffer.from(given.toLowerCase());
  return want.length === got.length && timingSafeEqual(want, got);
}

/** The parts of an authorized URL: "…;URLAUTH=access" (+ ":INTERNAL:token" when issued). */
export function splitUrlauth(url: string): { rump: string; access: string; mech: string | null; token: string | null; expire: number | null } | null {
  const m = /^(.*?(?:;EXPIRE=([^;]+))?;URLAUTH=(anonymous|authuser|(?:user|submit)\+[^:;]+))(?::([A-Za-z0-9_-]+):([0-9a-fA-F]+))?$/i.exec(url);
  if (!m) return null;
  let expire: number | null = null;
  if (m[2] !== undefined) {
    expire = Date.parse(m[2]);
    if (Number.isNaN(expire)) return null;
  }
  return { rump: m[1]!, access: m[3]!, mech: m[4] ?? null, token: m[5] ?? null, expire };
}
