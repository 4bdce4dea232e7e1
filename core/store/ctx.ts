// Shared state and helpers of the store's operation modules.
import type { ResultSet, Row } from "@libsql/client";
import type { Db, Tx } from "../db/open.ts";
import type { Logger } from "../types.ts";
import type { BlobBackend } from "./blobs.ts";
import type { AccountGone, Mailbox, StoreChange } from "./types.ts";

export interface StoreCtx {
  db: Db;
  blobs: BlobBackend;
  log: Logger;
  /** Blob ids written by prepare() whose rows may not be committed yet: GC keeps them.
   *  `n` prepares wait for their commit; `until` is when the pin lapses all the same (a
   *  rolled-back transaction never releases its pin). */
  pins: Map<string, { n: number; until: number }>;
  listeners: Set<(ev: StoreChange) => void>;
  accountListeners: Set<(ev: AccountGone) => void>;
  /** Set while the change feed follows other instances: told each modseq our own writes
   *  emit, before their commit (change-feed.ts); returns how to forget it again. */
  own?: (accountId: number, modseq: number) => () => void;
  /** Other processes or instances write this database too (StoreOptions.othersWrite). */
  othersWrite?: boolean;
}

/** Others write this database (said at creation, or the change feed follows them): what
 *  this process caches from its own writes and events may lag the database. */
export const othersWrite = (ctx: StoreCtx): boolean => ctx.othersWrite === true || ctx.own !== undefined;

/** How long a prepared blob is protected from GC before its row must exist. */
export const PIN_MS = 15 * 60_000;

export function pin(ctx: StoreCtx, id: string): void {
  const p = ctx.pins.get(id);
  if (p) {
    p.n++;
    p.until = Date.now() + PIN_MS;
  } else ctx.pins.set(id, { n: 1, until: Date.now() + PIN_MS });
}

export function isPinned(ctx: StoreCtx, id: string): boolean {
  const p = ctx.pins.get(id);
  if (p === undefined) return false;
  if (p.until < Date.now()) {
    ctx.pins.delete(id);
    return false;
  }
  return true;
}

/** Blobs each open transaction references, released together at its COMMIT. */
const releasing = new WeakMap<Tx, Set<string>>();

/** The transaction references the prepared blob `id` (a row with refcount ≥ 1): from its
 *  COMMIT on, that row keeps the blob from GC and one prepare's pin is released. Without
 *  this every delivered blob stayed in memory for PIN_MS (15 minutes of traffic). */
export function releasePinAtCommit(ctx: StoreCtx, tx: Tx, id: string): void {
  let ids = releasing.get(tx);
  if (!ids) {
    const mine = (ids = new Set());
    releasing.set(tx, mine);
    tx.afterCommit(() => {
      for (const i of mine) {
        const p = ctx.pins.get(i);
        if (p && --p.n <= 0) ctx.pins.delete(i);
      }
    });
  }
  ids.add(id);
}

/** A reference to a stored blob inside `tx` (a message row or a spool message), which
 *  also ends the prepare's pin at COMMIT. */
export async function refBlobInTx(ctx: StoreCtx, tx: Tx, blob: { id: string; size: number }): Promise<void> {
  await exec(tx, "INSERT INTO blobs(id, size, refcount, orphaned_at) VALUES (?, ?, 1, NULL) ON CONFLICT(id) DO UPDATE SET refcount = refcount + 1, orphaned_at = NULL", [blob.id, blob.size]);
  releasePinAtCommit(ctx, tx, blob.id);
}

/** Calls each listener; one that throws is logged and does not stop the others. */
function tell<T>(ctx: StoreCtx, listeners: Set<(ev: T) => void>, ev: T): void {
  for (const cb of listeners) {
    try {
      cb(ev);
    } catch (err) {
      ctx.log.error("store change listener failed", { err: (err as Error).message });
    }
  }
}

/** Tells accountListeners, once the transaction commits, that an account is gone. */
export function accountGoneAfterCommit(ctx: StoreCtx, tx: Tx, ev: AccountGone): void {
  tx.afterCommit(() => tell(ctx, ctx.accountListeners, ev));
}

/** Queues a change event to fire once, after the transaction commits. */
export function emitAfterCommit(ctx: StoreCtx, tx: Tx, ev: StoreChange): void {
  // A rolled-back write's modseq is given again, maybe to another process's write: it must
  // not stay ours, or the change feed would skip that write.
  const forget = ctx.own?.(ev.accountId, ev.modseq);
  if (forget) tx.onRollback(forget);
  tx.afterCommit(() => tell(ctx, ctx.listeners, ev));
}

/** Reads outside a write transaction (committed data only). */
export function read(ctx: StoreCtx, sql: string, args: unknown[] = []): Promise<ResultSet> {
  return ctx.db.query({ sql, args: args as never });
}

export function exec(tx: Tx, sql: string, args: unknown[] = []): Promise<ResultSet> {
  return tx.execute({ sql, args: args as never });
}

/** Next per-account modseq (RFC 7162): the counter starts at 1, so the first change is 2. */
export async function nextModseq(tx: Tx, accountId: number): Promise<number> {
  const r = await exec(tx, "UPDATE accounts SET modseq = modseq + 1 WHERE id = ? RETURNING modseq", [accountId]);
  if (!r.rows.length) throw new Error(`account ${accountId} vanished`);
  return Number(r.rows[0]!.modseq);
}

/** Next uidvalidity from the monotonic counter (never reused). Seeded from the clock so a
 *  re-created database does not repeat old values either. */
export async function nextUidvalidity(tx: Tx): Promise<number> {
  const seed = Math.floor(Date.now() / 1000);
  const r = await exec(
    tx,
    `INSERT INTO counters(name, value) VALUES ('uidvalidity', ?)
     ON CONFLICT(name) DO UPDATE SET value = value + 1 RETURNING value`,
    [seed],
  );
  const v = Number(r.rows[0]!.value);
  if (v >= 2 ** 32) throw new Error("uidvalidity counter exhausted");
  return v;
}

export const MAILBOX_COLS = "id, account_id, name, special_use, uidvalidity, uidnext, highest_modseq, messages, unseen, size, subscribed, created_modseq, changed_modseq";

export function toMailbox(r: Row): Mailbox {
  return {
    id: Number(r.id),
    accountId: Number(r.account_id),
    name: String(r.name),
    specialUse: r.special_use === null ? null : String(r.special_use),
    uidvalidity: Number(r.uidvalidity),
    uidnext: Number(r.uidnext),
    highestModseq: Number(r.highest_modseq),
    messages: Number(r.messages),
    unseen: Number(r.unseen),
    size: Number(r.size),
    subscribed: Boolean(Number(r.subscribed)),
    createdModseq: Number(r.created_modseq),
    changedModseq: Math.max(Number(r.changed_modseq), Number(r.highest_modseq)),
  };
}

/** Decrements blob refcounts for the messages matched by `where` (before deleting them). */
export async function unrefMessages(tx: Tx, where: string, args: unknown[]): Promise<void> {
  await exec(
    tx,
    `UPDATE blobs SET refcount = max(blobs.refcount - c.n, 0),
       orphaned_at = CASE WHEN blobs.refcount - c.n <= 0 THEN ? ELSE blobs.orphaned_at END
     FROM (SELECT blob_id, count(*) AS n FROM messages WHERE ${where} GROUP BY blob_id) AS c
     WHERE blobs.id = c.blob_id`,
    [Date.now(), ...args],
  );
}

/** Decrements blob refcounts by known counts (blob id → messages removed). */
export async function unrefBlobs(tx: Tx, perBlob: Map<string, number>): Promise<void> {
  if (!perBlob.size) return;
  await exec(
    tx,
    `UPDATE blobs SET refcount = max(blobs.refcount - c.n, 0),
       orphaned_at = CASE WHEN blobs.refcount - c.n <= 0 THEN ? ELSE blobs.orphaned_at END
     FROM (SELECT json_extract(value, '$[0]') AS blob_id, json_extract(value, '$[1]') AS n FROM json_each(?)) AS c
     WHERE blobs.id = c.blob_id`,
    [Date.now(), JSON.stringify([...perBlob])],
  );
}
