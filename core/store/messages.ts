// Messages (DESIGN.md "The IMAP model"): append, flags, copy, move, expunge. Every change
// takes a new per-account modseq and updates the mailbox's uidnext / highest modseq /
// counts in the same transaction as the rows; expunges leave tombstones (RFC 7162 §3.2.10).
import type { Row } from "@libsql/client";
import type { Tx } from "../db/open.ts";
import { analyze, shiftStructure } from "../mime/index.ts";
import type { Envelope, MimePart } from "../mime/types.ts";
import { StoreError } from "./errors.ts";
import { checkQuotaInTx } from "./quota.ts";
import { emitAfterCommit, exec, MAILBOX_COLS, nextModseq, pin, read, refBlobInTx, toMailbox, unrefBlobs, type StoreCtx } from "./ctx.ts";
import { applyFlags, DELETED, formatFlags, keywordsFromJson, parseFlags, SEEN, sameFlags } from "./flags.ts";
import { getMailboxInTx } from "./mailboxes.ts";
import { sha256Hex } from "./blobs.ts";
import { batchAppender } from "./batch.ts";
import { threadRefs } from "./threads.ts";
import type { AppendOptions, DeliveryTarget, FlagOp, Mailbox, MessageMeta, ParsedMessage, Store, StoredBlob, UidSet } from "./types.ts";

const MAX_UID = 2 ** 32 - 1;
const encoder = new TextEncoder();

export const MSG_COLS =
  "id, mailbox_id, uid, modseq, flags, keywords, internal_date, size, blob_id, prefix, envelope, structure, subject, from_addr, to_addr, cc_addr, bcc_addr, message_id, sent_date, preview, saved_at, email_id, thread_id, created_modseq";

/** The id the next messages row gets (AUTOINCREMENT: never reused): a new email id. */
const NEXT_ROW_ID = "(coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'messages'), 0) + 1)";

/** Defines `key` as a getter that parses the JSON once, on first use: listings that only
 *  need sizes or flags (POP3 LIST, FETCH FLAGS) never pay for envelope/structure. */
/** The parse of a message whose stored prefix is `bytes` longer (DeliveryTarget.headers):
 *  the same message, its offsets moved. */
function withMoreHeader(parsed: ParsedMessage, bytes: number): ParsedMessage {
  return { ...parsed, structure: shiftStructure(parsed.structure, bytes), size: parsed.size + bytes, prefixSize: parsed.prefixSize + bytes };
}

function lazyJson<T>(obj: object, key: string, json: string): void {
  Object.defineProperty(obj, key, {
    enumerable: true,
    configurable: true,
    get() {
      const value = JSON.parse(json) as T;
      Object.defineProperty(obj, key, { value, enumerable: true, configurable: true, writable: true });
      return value;
    },
  });
}

export function toMeta(r: Row): MessageMeta {
  const prefix = String(r.prefix);
  const meta = {
    id: Number(r.id),
    mailboxId: Number(r.mailbox_id),
    uid: Number(r.uid),
    modseq: Number(r.modseq),
    flags: formatFlags(Number(r.flags), keywordsFromJson(String(r.keywords))),
    internalDate: Number(r.internal_date),
    savedAt: Number(r.saved_at),
    size: Number(r.size),
    blobId: String(r.blob_id),
    prefixSize: prefix.length === 0 ? 0 : encoder.encode(prefix).length,
    subject: String(r.subject),
    from: String(r.from_addr),
    to: String(r.to_addr),
    cc: String(r.cc_addr),
    bcc: String(r.bcc_addr),
    messageId: String(r.message_id),
    sentDate: r.sent_date === null ? null : Number(r.sent_date),
    preview: String(r.preview),
    emailId: Number(r.email_id),
    threadId: Number(r.thread_id),
    createdModseq: Number(r.created_modseq),
  } as MessageMeta;
  lazyJson<Envelope>(meta, "envelope", String(r.envelope));
  lazyJson<MimePart>(meta, "structure", String(r.structure));
  return meta;
}

/** `uid IN (…)` for a UID set of any size (one JSON argument). */
function uidFilter(uids: UidSet | undefined): { sql: string; args: unknown[] } {
  if (uids === undefined) return { sql: "", args: [] };
  // One UID (a STORE or FETCH of one message): a plain index lookup, no JSON.
  if (uids.length === 1) return { sql: " AND uid = ?", args: [uids[0]] };
  return { sql: " AND uid IN (SELECT value FROM json_each(?))", args: [JSON.stringify(uids)] };
}

export async function mailboxByIdInTx(tx: Tx, id: number): Promise<Mailbox> {
  const r = await exec(tx, `SELECT ${MAILBOX_COLS} FROM mailboxes WHERE id = ?`, [id]);
  if (!r.rows.length) throw new StoreError("NONEXISTENT", `no mailbox ${id}`);
  return toMailbox(r.rows[0]!);
}

/** The next modseq of the account owning a mailbox, found in the same statement (no
 *  separate mailbox read on the STORE / EXPUNGE path). */
async function nextModseqOfMailbox(tx: Tx, mailboxId: number): Promise<{ accountId: number; modseq: number }> {
  const r = await exec(tx, "UPDATE accounts SET modseq = modseq + 1 WHERE id = (SELECT account_id FROM mailboxes WHERE id = ?) RETURNING id, modseq", [mailboxId]);
  if (!r.rows.length) throw new StoreError("NONEXISTENT", `no mailbox ${mailboxId}`);
  return { accountId: Number(r.rows[0]!.id), modseq: Number(r.rows[0]!.modseq) };
}

/** The thread of the first stored message this one refers to (RFC 5256 §3 REFERENCES,
 *  first step: link by Message-ID), or null for a new thread. */
async function findThread(tx: Tx, accountId: number, refs: string[]): Promise<number | null> {
  if (!refs.length) return null;
  const r = await exec(
    tx,
    `SELECT m.thread_id FROM messages m JOIN mailboxes b ON b.id = m.mailbox_id
     WHERE m.message_id IN (SELECT value FROM json_each(?)) AND b.account_id = ? LIMIT 1`,
    [JSON.stringify(refs.slice(-50)), accountId],
  );
  return r.rows.length ? Number(r.rows[0]!.thread_id) : null;
}

export type MessageOps = Pick<
  Store,
  | "prepare"
  | "append"
  | "appendBatch"
  | "appendMany"
  | "appendInTx"
  | "refBlobInTx"
  | "messages"
  | "uidList"
  | "read"
  | "blobList"
  | "prefixes"
  | "setFlags"
  | "copy"
  | "move"
  | "expunge"
  | "remove"
  | "vanished"
>;

export function messageOps(ctx: StoreCtx): MessageOps {
  const { db, blobs } = ctx;

  /** Stores the blob durably (fsync) and parses it once, before any transaction. */
  async function prepare(raw: Uint8Array, prefix: string[] = [], structure?: MimePart): Promise<{ blob: StoredBlob; parsed: ParsedMessage }> {
    const prefixSize = prefix.length ? encoder.encode(prefix.join("")).length : 0;
    // Pin before the file exists so GC can never unlink it under us (see gc.ts).
    const id = sha256Hex(raw);
    pin(ctx, id);
    const put = blobs.put(raw, id);
    const a = analyze(raw, prefixSize, structure);
    const blob = await put;
    return { blob, parsed: { ...a, size: prefixSize + raw.length, prefixSize, threadRefs: threadRefs(raw) } };
  }

  /** The row insert shared by append, appendInTx: blob ref, modseq, uid, counters. */
  async function insertMessage(
    tx: Tx,
    mb: Pick<Mailbox, "id" | "accountId">,
    blob: StoredBlob,
    prefix: string,
    parsed: ParsedMessage,
    flags: string[],
    internalDate: number,
    origin?: string,
    delivered = false,
    /** The modseq already taken for this message (append: nextModseqOfMailbox). */
    taken?: number,
  ) {
    const f = parseFlags(flags);
    await refBlobInTx(ctx, tx, blob);
    const modseq = taken ?? (await nextModseq(tx, mb.accountId));
    const unseen = f.mask & SEEN ? 0 : 1;
    const u = await exec(
      tx,
      `UPDATE mailboxes SET uidnext = uidnext + 1, highest_modseq = ?, messages = messages + 1, unseen = unseen + ?, size = size + ?
       WHERE id = ? RETURNING uidnext - 1 AS uid, uidvalidity`,
      [modseq, unseen, parsed.size, mb.id],
    );
    if (!u.rows.length) throw new StoreError("NONEXISTENT", `no mailbox ${mb.id}`);
    const uid = Number(u.rows[0]!.uid);
    if (uid > MAX_UID) throw new StoreError("CANNOT", "mailbox UID space exhausted");
    const thread = await findThread(tx, mb.accountId, parsed.threadRefs ?? []);
    const r = await exec(
      tx,
      `INSERT INTO messages(mailbox_id, uid, modseq, flags, keywords, internal_date, size, blob_id, prefix, envelope, structure, subject, from_addr, to_addr, cc_addr, bcc_addr, message_id, sent_date, preview, email_id, thread_id, created_modseq)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ${NEXT_ROW_ID}, coalesce(?, ${NEXT_ROW_ID}), ?) RETURNING id, email_id, thread_id`,
      [
        mb.id,
        uid,
        modseq,
        f.mask,
        JSON.stringify(f.keywords),
        internalDate,
        parsed.size,
        blob.id,
        prefix,
        JSON.stringify(parsed.envelope),
        JSON.stringify(parsed.structure),
        parsed.subject,
        parsed.from,
        parsed.to,
        parsed.cc,
        parsed.bcc,
        parsed.messageId,
        parsed.sentDate,
        parsed.preview,
        thread,
        modseq,
      ],
    );
    emitAfterCommit(ctx, tx, { accountId: mb.accountId, mailboxId: mb.id, kind: "append", uids: [uid], modseq, origin, flags: [formatFlags(f.mask, f.keywords)], ...(delivered && { delivered }) });
    return { uid, uidvalidity: Number(u.rows[0]!.uidvalidity), modseq, id: Number(r.rows[0]!.id), emailId: Number(r.rows[0]!.email_id), threadId: Number(r.rows[0]!.thread_id) };
  }

  async function append(mailboxId: number, raw: Uint8Array, opts: AppendOptions = {}) {
    const prefix = opts.prefix ?? [];
    const { blob, parsed } = await prepare(raw, prefix);
    return db.write(async (tx) => {
      // One statement finds the mailbox's account (NONEXISTENT if none) and takes the
      // modseq: no separate mailbox read (IMAP APPEND's hot path).
      const { accountId, modseq } = await nextModseqOfMailbox(tx, mailboxId);
      await checkQuotaInTx(tx, accountId, parsed.size, 1);
      return insertMessage(tx, { id: mailboxId, accountId }, blob, prefix.join(""), parsed, opts.flags ?? [], opts.internalDate ?? Date.now(), opts.origin, false, modseq);
    });
  }

  /** Several messages into one mailbox in one transaction: all or none (MULTIAPPEND,
   *  RFC 3502 §3). */
  async function appendMany(mailboxId: number, items: { raw: Uint8Array; opts?: AppendOptions }[]) {
    const prepared: { blob: StoredBlob; parsed: ParsedMessage; opts: AppendOptions }[] = [];
    for (const it of items) prepared.push({ ...(await prepare(it.raw, it.opts?.prefix ?? [])), opts: it.opts ?? {} });
    return db.write(async (tx) => {
      const mb = await mailboxByIdInTx(tx, mailboxId);
      await checkQuotaInTx(
        tx,
        mb.accountId,
        prepared.reduce((n, p) => n + p.parsed.size, 0),
        prepared.length,
      );
      const out = [];
      for (const p of prepared) {
        out.push(await insertMessage(tx, mb, p.blob, (p.opts.prefix ?? []).join(""), p.parsed, p.opts.flags ?? [], p.opts.internalDate ?? Date.now(), p.opts.origin));
      }
      return out;
    });
  }

  /** Inside the spool's transaction: no fsync here, the blob was stored by prepare(). */
  async function appendInTx(tx: Tx, target: DeliveryTarget, blob: StoredBlob, prefix: string[], parsed: ParsedMessage, opts: { internalDate?: number } = {}) {
    const mb = (await getMailboxInTx(tx, target.accountId, target.mailbox)) ?? (await getMailboxInTx(tx, target.accountId, "INBOX"));
    if (!mb) throw new StoreError("NONEXISTENT", `account ${target.accountId} has no INBOX`);
    const own = target.headers?.length ? target.headers.join("") : "";
    const r = await insertMessage(
      tx,
      mb,
      blob,
      prefix.join("") + own,
      own ? withMoreHeader(parsed, encoder.encode(own).length) : parsed,
      target.flags ?? [],
      opts.internalDate ?? Date.now(),
      undefined,
      true,
    );
    return { uid: r.uid, mailboxId: mb.id };
  }

  async function messages(mailboxId: number, opts: { uids?: UidSet; changedSince?: number } = {}): Promise<MessageMeta[]> {
    const f = uidFilter(opts.uids);
    let sql = `SELECT ${MSG_COLS} FROM messages WHERE mailbox_id = ?${f.sql}`;
    const args: unknown[] = [mailboxId, ...f.args];
    if (opts.changedSince !== undefined) {
      sql += " AND modseq > ?";
      args.push(opts.changedSince);
    }
    const r = await read(ctx, sql + " ORDER BY uid", args);
    return r.rows.map(toMeta);
  }

  async function uidList(mailboxId: number, changedSince?: number) {
    const r =
      changedSince === undefined
        ? await read(ctx, "SELECT uid, modseq, flags, keywords FROM messages WHERE mailbox_id = ? ORDER BY uid", [mailboxId])
        : await read(ctx, "SELECT uid, modseq, flags, keywords FROM messages WHERE mailbox_id = ? AND modseq > ? ORDER BY uid", [mailboxId, changedSince]);
    return r.rows.map((x) => ({ uid: Number(x.uid), modseq: Number(x.modseq), flags: formatFlags(Number(x.flags), keywordsFromJson(String(x.keywords))) }));
  }

  async function blobList(mailboxId: number) {
    const r = await read(ctx, "SELECT id, uid, size, blob_id FROM messages WHERE mailbox_id = ? ORDER BY uid", [mailboxId]);
    return r.rows.map((x) => ({ id: Number(x.id), uid: Number(x.uid), size: Number(x.size), blobId: String(x.blob_id) }));
  }

  async function prefixes(ids: readonly number[]) {
    const out = new Map<number, string>();
    if (!ids.length) return out;
    const r = await read(ctx, "SELECT id, prefix FROM messages WHERE id IN (SELECT value FROM json_each(?))", [JSON.stringify(ids)]);
    for (const x of r.rows) out.set(Number(x.id), String(x.prefix));
    return out;
  }

  /** Prefix + blob. The row must still exist (an expunged message is gone). */
  async function readMessage(msg: { blobId: string; id: number; size?: number }): Promise<Uint8Array> {
    const r = await read(ctx, "SELECT prefix FROM messages WHERE id = ?", [msg.id]);
    if (!r.rows.length) throw new StoreError("NONEXISTENT", `message ${msg.id} was expunged`);
    const prefix = String(r.rows[0]!.prefix);
    // The row's size is prefix + blob: the blob's size, for the blob store's read choice.
    const body = await blobs.get(msg.blobId, msg.size === undefined ? undefined : msg.size - Buffer.byteLength(prefix));
    if (!prefix) return body;
    const p = encoder.encode(prefix);
    const out = new Uint8Array(p.length + body.length);
    out.set(p, 0);
    out.set(body, p.length);
    return out;
  }

  /** STORE (RFC 9051 §6.4.6) with CONDSTORE UNCHANGEDSINCE (RFC 7162 §3.1.3): messages
   *  whose modseq is above it fail; unchanged messages keep their modseq. */
  async function setFlags(mailboxId: number, uids: UidSet, op: FlagOp, flags: string[], opts: { unchangedSince?: number; origin?: string } = {}) {
    const change = parseFlags(flags);
    return db.write(async (tx) => {
      const f = uidFilter(uids);
      const rows = await exec(tx, `SELECT id, uid, modseq, flags, keywords FROM messages WHERE mailbox_id = ?${f.sql} ORDER BY uid`, [mailboxId, ...f.args]);
      // No rows: a missing mailbox is still an error (rows imply the mailbox exists).
      if (!rows.rows.length) await mailboxByIdInTx(tx, mailboxId);
      const failed: number[] = [];
      const updates: { id: number; uid: number; next: { mask: number; keywords: string[] }; seenDelta: number; added: string[] }[] = [];
      for (const r of rows.rows) {
        const uid = Number(r.uid);
        if (opts.unchangedSince !== undefined && Number(r.modseq) > opts.unchangedSince) {
          failed.push(uid);
          continue;
        }
        const cur = { mask: Number(r.flags), keywords: keywordsFromJson(String(r.keywords)) };
        const next = applyFlags(cur, op, change);
        if (sameFlags(cur, next)) continue;
        const seenDelta = (cur.mask & SEEN ? 0 : 1) - (next.mask & SEEN ? 0 : 1);
        const had = new Set(cur.keywords.map((k) => k.toLowerCase()));
        const added = formatFlags(
          next.mask & ~cur.mask,
          next.keywords.filter((k) => !had.has(k.toLowerCase())),
        );
        updates.push({ id: Number(r.id), uid, next, seenDelta, added });
      }
      if (!updates.length) return { changed: [], failed };
      const { accountId, modseq } = await nextModseqOfMailbox(tx, mailboxId);
      let unseenDelta = 0;
      for (const u of updates) {
        await exec(tx, "UPDATE messages SET flags = ?, keywords = ?, modseq = ? WHERE id = ?", [u.next.mask, JSON.stringify(u.next.keywords), modseq, u.id]);
        unseenDelta -= u.seenDelta;
      }
      await exec(tx, "UPDATE mailboxes SET highest_modseq = ?, unseen = unseen + ? WHERE id = ?", [modseq, unseenDelta, mailboxId]);
      const changed = updates.map((u) => ({ uid: u.uid, modseq, flags: formatFlags(u.next.mask, u.next.keywords) }));
      emitAfterCommit(ctx, tx, {
        accountId,
        mailboxId,
        kind: "flags",
        uids: changed.map((c) => c.uid),
        modseq,
        origin: opts.origin,
        flags: changed.map((c) => c.flags),
        added: updates.map((u) => u.added),
      });
      return { changed, failed };
    });
  }

  /** Copies rows (flags, keywords, internal date, thread kept) into `to` with new UIDs in
   *  order. A copy is a new email (new email id); a move (`keepIds`) keeps the email id. */
  async function copyInTx(tx: Tx, from: Mailbox, uids: UidSet, to: Mailbox, origin?: string, keepIds = false) {
    const f = uidFilter(uids);
    const src = await exec(tx, `SELECT uid FROM messages WHERE mailbox_id = ?${f.sql} ORDER BY uid`, [from.id, ...f.args]);
    const srcUids = src.rows.map((r) => Number(r.uid));
    if (!srcUids.length) return { uidvalidity: to.uidvalidity, map: [] as [number, number][], modseq: 0 };
    if (to.uidnext + srcUids.length - 1 > MAX_UID) throw new StoreError("CANNOT", "mailbox UID space exhausted");
    const modseq = await nextModseq(tx, to.accountId);
    const base = to.uidnext;
    const where = `mailbox_id = ?${f.sql}`;
    await exec(
      tx,
      `INSERT INTO messages(mailbox_id, uid, modseq, flags, keywords, internal_date, size, blob_id, prefix, envelope, structure, subject, from_addr, to_addr, cc_addr, bcc_addr, message_id, sent_date, preview, email_id, thread_id, created_modseq)
       SELECT ?, ? + row_number() OVER (ORDER BY uid) - 1, ?, flags, keywords, internal_date, size, blob_id, prefix, envelope, structure, subject, from_addr, to_addr, cc_addr, bcc_addr, message_id, sent_date, preview,
         ${keepIds ? "email_id" : "0"}, thread_id, ${keepIds ? "created_modseq" : "?"}
       FROM messages WHERE ${where} ORDER BY uid`,
      keepIds ? [to.id, base, modseq, from.id, ...f.args] : [to.id, base, modseq, modseq, from.id, ...f.args],
    );
    // A copy's email id is its own row id (the rows just made: UIDs from `base` on).
    if (!keepIds) await exec(tx, "UPDATE messages SET email_id = id WHERE mailbox_id = ? AND uid >= ?", [to.id, base]);
    await exec(
      tx,
      `UPDATE blobs SET refcount = blobs.refcount + c.n, orphaned_at = NULL
       FROM (SELECT blob_id, count(*) AS n FROM messages WHERE ${where} GROUP BY blob_id) AS c WHERE blobs.id = c.blob_id`,
      [from.id, ...f.args],
    );
    const agg = await exec(tx, `SELECT count(*) AS n, coalesce(sum(size), 0) AS size, coalesce(sum((flags & ${SEEN}) = 0), 0) AS unseen FROM messages WHERE ${where}`, [from.id, ...f.args]);
    const a = agg.rows[0]!;
    await exec(tx, "UPDATE mailboxes SET uidnext = uidnext + ?, highest_modseq = ?, messages = messages + ?, unseen = unseen + ?, size = size + ? WHERE id = ?", [
      srcUids.length,
      modseq,
      Number(a.n),
      Number(a.unseen),
      Number(a.size),
      to.id,
    ]);
    const map = srcUids.map((u, i) => [u, base + i] as [number, number]);
    emitAfterCommit(ctx, tx, { accountId: to.accountId, mailboxId: to.id, kind: "append", uids: map.map((m) => m[1]), modseq, origin });
    return { uidvalidity: to.uidvalidity, map, modseq };
  }

  /** Deletes rows matched by uids (and `extra` condition), leaving tombstones. One scan
   *  finds the rows; the other statements then address them by UID (index lookups). */
  async function removeInTx(tx: Tx, mailboxId: number, uids: UidSet | undefined, extra: string, origin?: string, given?: { accountId: number; modseq: number }, moved = false): Promise<number[]> {
    const f = uidFilter(uids);
    const rows = await exec(tx, `SELECT uid, size, flags, blob_id, email_id, thread_id FROM messages WHERE mailbox_id = ?${f.sql}${extra} ORDER BY uid`, [mailboxId, ...f.args]);
    if (!rows.rows.length) {
      if (!given) await mailboxByIdInTx(tx, mailboxId); // a missing mailbox is still an error
      return [];
    }
    const { accountId, modseq } = given ?? (await nextModseqOfMailbox(tx, mailboxId));
    const mb = { id: mailboxId, accountId };
    let size = 0;
    let unseen = 0;
    const gone: number[] = [];
    const perBlob = new Map<string, number>();
    const destroyed: [number, number][] = [];
    for (const r of rows.rows) {
      gone.push(Number(r.uid));
      destroyed.push([Number(r.email_id), Number(r.thread_id)]);
      size += Number(r.size);
      if (!(Number(r.flags) & SEEN)) unseen++;
      const b = String(r.blob_id);
      perBlob.set(b, (perBlob.get(b) ?? 0) + 1);
    }
    const goneJson = JSON.stringify(gone);
    await exec(tx, "INSERT OR REPLACE INTO tombstones(mailbox_id, uid, modseq) SELECT ?, value, ? FROM json_each(?)", [mb.id, modseq, goneJson]);
    // A move within the account keeps the email ids alive: nothing destroyed for JMAP.
    if (!moved) {
      await exec(
        tx,
        "INSERT OR REPLACE INTO destroyed(account_id, kind, object_id, thread_id, modseq) SELECT ?, 'email', json_extract(value, '$[0]'), json_extract(value, '$[1]'), ? FROM json_each(?)",
        [mb.accountId, modseq, JSON.stringify(destroyed)],
      );
    }
    await unrefBlobs(tx, perBlob);
    await exec(tx, "DELETE FROM messages WHERE mailbox_id = ? AND uid IN (SELECT value FROM json_each(?))", [mb.id, goneJson]);
    await exec(tx, "UPDATE mailboxes SET highest_modseq = ?, messages = messages - ?, unseen = unseen - ?, size = size - ? WHERE id = ?", [modseq, gone.length, unseen, size, mb.id]);
    emitAfterCommit(ctx, tx, { accountId: mb.accountId, mailboxId: mb.id, kind: "expunge", uids: gone, modseq, origin });
    return gone;
  }

  async function copy(fromMailboxId: number, uids: UidSet, toMailboxId: number, opts: { origin?: string } = {}) {
    return db.write(async (tx) => {
      const from = await mailboxByIdInTx(tx, fromMailboxId);
      const to = await mailboxByIdInTx(tx, toMailboxId);
      const f = uidFilter(uids);
      const add = await exec(tx, `SELECT count(*) AS n, coalesce(sum(size), 0) AS size FROM messages WHERE mailbox_id = ?${f.sql}`, [from.id, ...f.args]);
      await checkQuotaInTx(tx, to.accountId, Number(add.rows[0]!.size), Number(add.rows[0]!.n));
      const r = await copyInTx(tx, from, uids, to, opts.origin);
      return { uidvalidity: r.uidvalidity, map: r.map };
    });
  }

  /** MOVE (RFC 6851): copy + expunge in one transaction, one modseq. */
  async function move(fromMailboxId: number, uids: UidSet, toMailboxId: number, opts: { origin?: string } = {}) {
    return db.write(async (tx) => {
      const from = await mailboxByIdInTx(tx, fromMailboxId);
      const to = await mailboxByIdInTx(tx, toMailboxId);
      // Into the same mailbox is allowed (RFC 6851 does not forbid it): new UIDs, old ones expunged.
      const same = from.accountId === to.accountId;
      const r = await copyInTx(tx, from, uids, to, opts.origin, same);
      if (r.map.length) {
        const moved = r.map.map((m) => m[0]);
        // Same account: the copy's modseq covers the expunge; otherwise the source's own.
        await removeInTx(tx, from.id, moved, "", opts.origin, same ? { accountId: from.accountId, modseq: r.modseq } : undefined, same);
      }
      return { uidvalidity: r.uidvalidity, map: r.map };
    });
  }

  /** The condition spelled exactly as the partial index messages_deleted (schema.ts) so
   *  SQLite uses it: EXPUNGE reads only the \Deleted rows, never the whole mailbox. */
  const IS_DELETED = ` AND (flags & ${DELETED}) <> 0`;

  async function expunge(mailboxId: number, uids?: UidSet, opts: { origin?: string } = {}) {
    return db.write(async (tx) => removeInTx(tx, mailboxId, uids, IS_DELETED, opts.origin));
  }

  async function remove(mailboxId: number, uids: UidSet, opts: { origin?: string } = {}) {
    return db.write(async (tx) => removeInTx(tx, mailboxId, uids, "", opts.origin));
  }

  async function vanished(mailboxId: number, since: number): Promise<number[]> {
    const r = await read(ctx, "SELECT uid FROM tombstones WHERE mailbox_id = ? AND modseq > ? ORDER BY uid", [mailboxId, since]);
    return r.rows.map((x) => Number(x.uid));
  }

  const appendBatch = batchAppender(ctx, prepare);
  const refBlob = (tx: Tx, blob: StoredBlob) => refBlobInTx(ctx, tx, blob);
  return { prepare, append, appendBatch, appendMany, appendInTx, refBlobInTx: refBlob, messages, uidList, read: readMessage, blobList, prefixes, setFlags, copy, move, expunge, remove, vanished };
}
