// Store.appendBatch (import, migrate): many messages in one group-committed write, and a
// few statements per mailbox instead of four per message. Blobs are written and parsed
// first, outside the transaction; a message whose exact bytes are already in its target
// mailbox (or earlier in the batch) is not added again ("exists"). The same content in two
// mailboxes shares one blob. `inTx` runs in the same transaction, so a caller's own
// bookkeeping commits atomically with the rows. Quota is checked as for APPEND, over the
// whole batch: an account that the new messages would take over its limit gets nothing
// and the batch fails with OVERQUOTA (MULTIAPPEND's all-or-nothing, RFC 3502 §6.3.11).
import type { Tx } from "../db/open.ts";
import { emitAfterCommit, exec, releasePinAtCommit, type StoreCtx } from "./ctx.ts";
import { StoreError } from "./errors.ts";
import { formatFlags, parseFlags, SEEN } from "./flags.ts";
import { mailboxByIdInTx } from "./messages.ts";
import { checkQuotaInTx } from "./quota.ts";
import type { BatchItem, BatchOptions, BatchResult, Mailbox, ParsedMessage, StoredBlob } from "./types.ts";

const MAX_UID = 2 ** 32 - 1;

interface Row {
  blob: StoredBlob;
  parsed: ParsedMessage;
  flags: string[];
  internalDate: number;
}

/** Rows for one mailbox: consecutive UIDs and modseqs, counters updated once. */
async function insertRows(ctx: StoreCtx, tx: Tx, mb: Mailbox, rows: Row[], origin?: string): Promise<number[]> {
  const n = rows.length;
  const fl = rows.map((r) => parseFlags(r.flags));
  // "WHERE true": an upsert's SELECT needs it (SQLite parses ON CONFLICT as a join otherwise).
  await exec(
    tx,
    `INSERT INTO blobs(id, size, refcount, orphaned_at) SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'), 1, NULL FROM json_each(?) WHERE true
     ON CONFLICT(id) DO UPDATE SET refcount = refcount + 1, orphaned_at = NULL`,
    [JSON.stringify(rows.map((r) => [r.blob.id, r.blob.size]))],
  );
  for (const r of rows) releasePinAtCommit(ctx, tx, r.blob.id);
  const m = await exec(tx, "UPDATE accounts SET modseq = modseq + ? WHERE id = ? RETURNING modseq", [n, mb.accountId]);
  if (!m.rows.length) throw new StoreError("NONEXISTENT", `account ${mb.accountId} vanished`);
  const lastModseq = Number(m.rows[0]!.modseq);
  const firstModseq = lastModseq - n + 1;
  const unseen = fl.filter((f) => !(f.mask & SEEN)).length;
  const size = rows.reduce((s, r) => s + r.parsed.size, 0);
  const u = await exec(
    tx,
    `UPDATE mailboxes SET uidnext = uidnext + ?, highest_modseq = ?, messages = messages + ?, unseen = unseen + ?, size = size + ?
     WHERE id = ? RETURNING uidnext - ? AS first`,
    [n, lastModseq, n, unseen, size, mb.id, n],
  );
  if (!u.rows.length) throw new StoreError("NONEXISTENT", `no mailbox ${mb.id}`);
  const firstUid = Number(u.rows[0]!.first);
  if (firstUid + n - 1 > MAX_UID) throw new StoreError("CANNOT", "mailbox UID space exhausted");
  const values = rows.map((r, i) => {
    const p = r.parsed;
    return [
      firstUid + i,
      firstModseq + i,
      fl[i]!.mask,
      JSON.stringify(fl[i]!.keywords),
      r.internalDate,
      p.size,
      r.blob.id,
      JSON.stringify(p.envelope),
      JSON.stringify(p.structure),
      p.subject,
      p.from,
      p.to,
      p.cc,
      p.bcc,
      p.messageId,
      p.sentDate,
      p.preview,
    ];
  });
  const col = (i: number) => `json_extract(value, '$[${i}]')`;
  await exec(
    tx,
    `INSERT INTO messages(mailbox_id, uid, modseq, flags, keywords, internal_date, size, blob_id, prefix, envelope, structure, subject, from_addr, to_addr, cc_addr, bcc_addr, message_id, sent_date, preview)
     SELECT ?, ${[0, 1, 2, 3, 4, 5, 6].map(col).join(", ")}, '', ${[7, 8, 9, 10, 11, 12, 13, 14, 15, 16].map(col).join(", ")} FROM json_each(?)`,
    [mb.id, JSON.stringify(values)],
  );
  // Object ids (core/store/ids.ts): each imported message is a new email, its own thread
  // (linking imports by References is not done here), created at its modseq.
  await exec(tx, "UPDATE messages SET email_id = id, thread_id = id, created_modseq = modseq WHERE mailbox_id = ? AND uid >= ?", [mb.id, firstUid]);
  const uids = rows.map((_, i) => firstUid + i);
  emitAfterCommit(ctx, tx, { accountId: mb.accountId, mailboxId: mb.id, kind: "append", uids, modseq: lastModseq, origin, flags: fl.map((f) => formatFlags(f.mask, f.keywords)) });
  return uids;
}

export function batchAppender(ctx: StoreCtx, prepare: (raw: Uint8Array) => Promise<{ blob: StoredBlob; parsed: ParsedMessage }>) {
  return async function appendBatch(items: BatchItem[], opts: BatchOptions = {}): Promise<BatchResult[]> {
    if (!items.length) return [];
    const prepared = await Promise.all(items.map((it) => prepare(it.raw)));
    return ctx.db.write(async (tx) => {
      // Per mailbox: the items to add (by index), after skipping bytes already there.
      const groups = new Map<number, number[]>();
      for (const it of items) if (!groups.has(it.mailboxId)) groups.set(it.mailboxId, []);
      const out: BatchResult[] = new Array(items.length);
      for (const [mailboxId, idx] of groups) {
        const ids = items.flatMap((x, j) => (x.mailboxId === mailboxId ? [prepared[j]!.blob.id] : []));
        const r = await exec(tx, "SELECT blob_id FROM messages WHERE mailbox_id = ? AND blob_id IN (SELECT value FROM json_each(?))", [mailboxId, JSON.stringify(ids)]);
        const seen = new Set(r.rows.map((x) => String(x.blob_id)));
        for (const [i, it] of items.entries()) {
          if (it.mailboxId !== mailboxId) continue;
          const blobId = prepared[i]!.blob.id;
          if (seen.has(blobId)) {
            out[i] = { status: "exists", mailboxId, blobId };
            releasePinAtCommit(ctx, tx, blobId); // the row already there keeps the blob
          } else {
            seen.add(blobId);
            idx.push(i);
          }
        }
      }
      const mbs = new Map<number, Mailbox>();
      const adding = new Map<number, { bytes: number; count: number }>();
      for (const [mailboxId, idx] of groups) {
        const mb = await mailboxByIdInTx(tx, mailboxId); // a missing mailbox fails the batch
        mbs.set(mailboxId, mb);
        const a = adding.get(mb.accountId) ?? { bytes: 0, count: 0 };
        for (const i of idx) a.bytes += prepared[i]!.parsed.size;
        a.count += idx.length;
        adding.set(mb.accountId, a);
      }
      for (const [accountId, a] of adding) if (a.count) await checkQuotaInTx(tx, accountId, a.bytes, a.count);
      for (const [mailboxId, idx] of groups) {
        if (!idx.length) continue;
        const mb = mbs.get(mailboxId)!;
        const rows = idx.map((i) => ({ ...prepared[i]!, flags: items[i]!.flags ?? [], internalDate: items[i]!.internalDate ?? Date.now() }));
        const uids = await insertRows(ctx, tx, mb, rows, opts.origin);
        idx.forEach((i, k) => (out[i] = { status: "added", mailboxId, blobId: prepared[i]!.blob.id, uid: uids[k]! }));
      }
      if (opts.inTx) await opts.inTx(tx, out);
      return out;
    });
  };
}
