// Queue administration (`kotakpos queue list|show|retry|delete`, Spool.hold/release) and the blob reference
// bookkeeping shared with the scheduler.
import { and, asc, eq, inArray, notInArray, sql, count } from "drizzle-orm";
import type { Db, Tx } from "../db/open.ts";
import { blobs, spool } from "../db/schema.ts";
import type { QueueEntry, SpoolStatus } from "./types.ts";

export const FINAL: SpoolStatus[] = ["delivered", "failed"];

type Row = typeof spool.$inferSelect;

export function toEntry(r: Row): QueueEntry {
  return {
    id: r.msgId,
    recipient: r.recipient,
    mailFrom: r.mailFrom,
    status: r.status as SpoolStatus,
    attempts: r.attempts,
    nextAttempt: r.nextAttempt,
    lastError: r.lastError,
    createdAt: r.createdAt,
    size: r.size,
  };
}

/** Call in the transaction that just made rows of `msgId` final: when none is left
 *  pending, the message's one blob reference is dropped (the store erases orphans later). */
export async function releaseIfDone(tx: Tx, msgId: string, blobId: string): Promise<boolean> {
  const [left] = await tx.orm
    .select({ n: count() })
    .from(spool)
    .where(and(eq(spool.msgId, msgId), notInArray(spool.status, FINAL)));
  if ((left?.n ?? 0) > 0) return false;
  await tx.orm
    .update(blobs)
    .set({
      refcount: sql`max(${blobs.refcount} - 1, 0)`,
      orphanedAt: sql`case when ${blobs.refcount} <= 1 then ${Date.now()} else ${blobs.orphanedAt} end`,
    })
    .where(eq(blobs.id, blobId));
  return true;
}

export async function listQueue(db: Db): Promise<QueueEntry[]> {
  const rows = await db.orm.select().from(spool).where(notInArray(spool.status, FINAL)).orderBy(asc(spool.id));
  return rows.map(toEntry);
}

export async function getMessage(db: Db, id: string): Promise<QueueEntry[]> {
  const rows = await db.orm.select().from(spool).where(eq(spool.msgId, id)).orderBy(asc(spool.id));
  return rows.map(toEntry);
}

/** Make queued/deferred rows of a message due now; returns how many. */
export async function retryMessage(db: Db, id: string): Promise<number> {
  return db.write(async (tx) => {
    const res = await tx.orm
      .update(spool)
      .set({ nextAttempt: Date.now(), status: "queued", updatedAt: Date.now() })
      .where(and(eq(spool.msgId, id), inArray(spool.status, ["queued", "deferred"])))
      .returning({ id: spool.id });
    return res.length;
  });
}

/** Hold the queued/deferred/in-flight rows of messages from these envelope senders (Spool.hold). */
export async function holdMessages(db: Db, mailFrom: string[]): Promise<string[]> {
  const from = [...new Set(mailFrom.map((a) => a.toLowerCase()))].filter(Boolean);
  if (from.length === 0) return [];
  return db.write(async (tx) => {
    const res = await tx.orm
      .update(spool)
      .set({ status: "held", updatedAt: Date.now() })
      // Rows in flight too: their attempt's outcome is still recorded (persistOutcomes),
      // and a temporary failure leaves them held.
      .where(and(inArray(sql`lower(${spool.mailFrom})`, from), inArray(spool.status, ["queued", "deferred", "inflight"]), eq(spool.internal, false)))
      .returning({ msgId: spool.msgId });
    return [...new Set(res.map((r) => r.msgId))];
  });
}

/** Held rows of these messages become due now (Spool.release); returns how many rows. */
export async function releaseMessages(db: Db, ids: string[]): Promise<number> {
  if (ids.length === 0) return 0;
  return db.write(async (tx) => {
    const res = await tx.orm
      .update(spool)
      // A row whose attempt is still running goes back to in flight (its outcome records).
      .set({
        status: sql`case when ${spool.leaseOwner} is not null then 'inflight' else 'queued' end`,
        nextAttempt: sql`case when ${spool.leaseOwner} is not null then ${spool.nextAttempt} else ${Date.now()} end`,
        updatedAt: Date.now(),
      })
      .where(and(inArray(spool.msgId, ids), eq(spool.status, "held")))
      .returning({ id: spool.id });
    return res.length;
  });
}

/** Remove every row of a message; returns how many rows were pending. */
export async function deleteMessage(db: Db, id: string): Promise<number> {
  return db.write(async (tx) => {
    const rows = await tx.orm.select({ status: spool.status, blobId: spool.blobId }).from(spool).where(eq(spool.msgId, id));
    if (rows.length === 0) return 0;
    const pending = rows.filter((r) => !FINAL.includes(r.status as SpoolStatus)).length;
    await tx.orm.delete(spool).where(eq(spool.msgId, id));
    if (pending > 0) await releaseIfDone(tx, id, rows[0]!.blobId);
    return pending;
  });
}
