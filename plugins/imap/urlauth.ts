// URLAUTH (RFC 4467) keys and tokens: each mailbox has a random access key (kept with the
// METADATA rows under a name no entry can have, so GETMETADATA never shows it); the
// INTERNAL token of a URL is HMAC-SHA-256 of its "rump" (everything up to and including
// ";URLAUTH=<access>") under that key. RESETKEY makes every earlier token invalid.
// resolveAuthorized serves URLFETCH (an IMAP user) and BURL (the submission server acting
// for its authenticated user, RFC 4468 §3, through the core's "url.fetch" hook).
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { and, eq, like } from "drizzle-orm";
import type { Db } from "../../core/db/open.ts";
import { imapMetadata } from "../../core/db/schema.ts";
import { canonicalName } from "./names.ts";
import { fetchImapUrl, parseImapUrl, type UrlContext } from "./imapurl.ts";

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

const sameUser = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

/** Who asks: an IMAP user (URLFETCH) or the submission server for a user (BURL). */
export interface UrlRequester {
  user: string;
  submit: boolean;
}

/** The bytes an authorized URL gives this requester, or null (RFC 4467 §3 access
 *  identifiers: anonymous and authuser admit anyone logged in here, "user+X" only the IMAP
 *  user X, "submit+X" only a submission on behalf of X). */
export async function resolveAuthorized(ctx: UrlContext, url: string, who: UrlRequester): Promise<Uint8Array | null> {
  const u = parseImapUrl(url);
  const a = splitUrlauth(url);
  if (!u || !a || !a.token || !u.user || a.mech?.toUpperCase() !== "INTERNAL") return null;
  if (a.expire !== null && a.expire <= Date.now()) return null;
  let access: string;
  try {
    access = decodeURIComponent(a.access).toLowerCase();
  } catch {
    return null;
  }
  if (access.startsWith("user+") && (who.submit || !sameUser(access.slice(5), who.user))) return null;
  if (access.startsWith("submit+") && (!who.submit || !sameUser(access.slice(7), who.user))) return null;
  const owner = await ctx.core.store.getAccount(u.user);
  if (!owner) return null;
  const mb = await ctx.core.store.getMailbox(owner.id, canonicalName(u.mailbox));
  if (!mb) return null;
  const key = await accessKey(ctx.core.db, owner.id, mb.id, false);
  if (!key || !tokenMatches(key, a.rump, a.token)) return null;
  return fetchImapUrl(ctx, u, owner.id);
}
