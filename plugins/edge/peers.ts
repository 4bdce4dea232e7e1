// Edge side data: the paired home domains, their credentials and recipients.
import { timingSafeEqual } from "node:crypto";
import { eq, sql } from "drizzle-orm";
import type { Core } from "../../core/types.ts";
import type { Db } from "../../core/db/open.ts";
import { hashSecret, newSecret } from "./code.ts";
import { edgePeers } from "./schema.ts";

export type Peer = typeof edgePeers.$inferSelect;

/** Built once per database: the route hook asks for every recipient of every message, and
 *  drizzle otherwise builds the SQL on every call (more CPU than running it, and its
 *  megamorphic builder keeps the JIT recompiling). */
const prepareGet = (db: Db) =>
  db.orm
    .select()
    .from(edgePeers)
    .where(eq(edgePeers.domain, sql.placeholder("domain")))
    .prepare();
const getQueries = new WeakMap<Db, ReturnType<typeof prepareGet>>();

export async function getPeer(db: Db, domain: string): Promise<Peer | undefined> {
  let q = getQueries.get(db);
  if (!q) getQueries.set(db, (q = prepareGet(db)));
  return (await q.all({ domain: domain.toLowerCase() }))[0];
}

const same = (a: string | null, b: string): boolean => a !== null && a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));

/** What a password is for this domain: its credential, the unused pairing secret, or nothing. */
export async function credentialKind(db: Db, domain: string, password: string): Promise<"linked" | "pairing" | null> {
  const p = await getPeer(db, domain);
  if (!p) return null;
  const h = hashSecret(password);
  if (same(p.secretHash, h)) return "linked";
  if (same(p.codeHash, h)) return "pairing";
  return null;
}

/** The home presented the one-time secret: it gets its credential and the code is spent. */
export async function completePairing(db: Db, domain: string): Promise<string> {
  const secret = newSecret();
  await db.write((tx) =>
    tx.orm
      .update(edgePeers)
      .set({ secretHash: hashSecret(secret), codeHash: null, pairedAt: Date.now() })
      .where(eq(edgePeers.domain, domain)),
  );
  return secret;
}

export async function setRecipients(db: Db, domain: string, recipients: string[]): Promise<void> {
  await db.write((tx) =>
    tx.orm
      .update(edgePeers)
      .set({ recipients: JSON.stringify(recipients), syncedAt: Date.now() })
      .where(eq(edgePeers.domain, domain)),
  );
}

/** The home logged in (each poll): seen now. */
export async function touchPeer(db: Db, domain: string): Promise<void> {
  await db.write((tx) => tx.orm.update(edgePeers).set({ lastSeen: Date.now() }).where(eq(edgePeers.domain, domain)));
}

/** A delivery to the home failed; a later successful one clears it. */
export async function touchPeerError(db: Db, domain: string, lastError: string | null): Promise<void> {
  await db.write((tx) => tx.orm.update(edgePeers).set({ lastError }).where(eq(edgePeers.domain, domain)));
}

/** Is the address one of the home's (a listed address, its +tag form, or a catch-all)? */
export function knownRecipient(p: Peer, address: string): boolean {
  const list = JSON.parse(p.recipients) as string[];
  const a = address.toLowerCase();
  const at = a.lastIndexOf("@");
  const plus = a.indexOf("+");
  const base = plus > 0 && plus < at ? a.slice(0, plus) + a.slice(at) : a;
  return list.includes(a) || list.includes(base) || list.includes(a.slice(at));
}

/** Spool entries waiting for the domain's home (ids of messages with such recipients). */
export async function waitingFor(core: Core, domain: string): Promise<{ ids: string[]; deferred: string[]; count: number }> {
  const rows = (await core.spool.list()).filter((e) => (e.status === "queued" || e.status === "deferred" || e.status === "inflight") && e.recipient.toLowerCase().endsWith("@" + domain));
  return { ids: [...new Set(rows.map((r) => r.id))], deferred: [...new Set(rows.filter((r) => r.status === "deferred").map((r) => r.id))], count: rows.length };
}
