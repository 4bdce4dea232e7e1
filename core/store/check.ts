// Consistency check (DESIGN.md: runs after every store test): mailbox counters match the
// rows, uidnext is above every UID (live or expunged), modseqs are bounded by the mailbox's
// highest modseq and the account counter, refcounts match references, blobs exist.
import { read, type StoreCtx } from "./ctx.ts";

export async function checkStore(ctx: StoreCtx): Promise<string[]> {
  const problems: string[] = [];
  const q = async (sql: string, args: unknown[] = []) => (await read(ctx, sql, args)).rows;

  for (const r of await q(`
    SELECT mb.id, mb.name, mb.messages, mb.unseen, mb.size, mb.uidnext, mb.highest_modseq, a.modseq AS acct_modseq,
      (SELECT count(*) FROM messages m WHERE m.mailbox_id = mb.id) AS n,
      (SELECT count(*) FROM messages m WHERE m.mailbox_id = mb.id AND (m.flags & 1) = 0) AS u,
      (SELECT coalesce(sum(size), 0) FROM messages m WHERE m.mailbox_id = mb.id) AS s,
      (SELECT coalesce(max(uid), 0) FROM messages m WHERE m.mailbox_id = mb.id) AS maxuid,
      (SELECT coalesce(max(uid), 0) FROM tombstones t WHERE t.mailbox_id = mb.id) AS maxdead,
      (SELECT coalesce(max(modseq), 0) FROM messages m WHERE m.mailbox_id = mb.id) AS maxmod,
      (SELECT coalesce(max(modseq), 0) FROM tombstones t WHERE t.mailbox_id = mb.id) AS maxdeadmod
    FROM mailboxes mb JOIN accounts a ON a.id = mb.account_id`)) {
    const at = `mailbox ${r.id} (${r.name})`;
    if (Number(r.messages) !== Number(r.n)) problems.push(`${at}: messages=${r.messages} but ${r.n} rows`);
    if (Number(r.unseen) !== Number(r.u)) problems.push(`${at}: unseen=${r.unseen} but ${r.u} unseen rows`);
    if (Number(r.size) !== Number(r.s)) problems.push(`${at}: size=${r.size} but rows sum to ${r.s}`);
    if (Number(r.uidnext) <= Math.max(Number(r.maxuid), Number(r.maxdead))) problems.push(`${at}: uidnext=${r.uidnext} not above max uid ${Math.max(Number(r.maxuid), Number(r.maxdead))}`);
    if (Number(r.highest_modseq) < Math.max(Number(r.maxmod), Number(r.maxdeadmod))) problems.push(`${at}: highest_modseq=${r.highest_modseq} below a row's modseq`);
    if (Number(r.highest_modseq) > Math.max(Number(r.acct_modseq), 1)) problems.push(`${at}: highest_modseq=${r.highest_modseq} above the account counter ${r.acct_modseq}`);
  }
  for (const r of await q("SELECT m.mailbox_id, m.uid FROM messages m JOIN tombstones t ON t.mailbox_id = m.mailbox_id AND t.uid = m.uid LIMIT 10")) {
    problems.push(`mailbox ${r.mailbox_id}: uid ${r.uid} is both live and expunged`);
  }
  for (const r of await q("SELECT uidvalidity, count(*) AS n FROM mailboxes GROUP BY uidvalidity HAVING n > 1")) {
    problems.push(`uidvalidity ${r.uidvalidity} used by ${r.n} mailboxes`);
  }
  for (const r of await q("SELECT account_id, count(*) AS n FROM mailboxes WHERE name = 'INBOX' GROUP BY account_id HAVING n <> 1")) {
    problems.push(`account ${r.account_id}: ${r.n} INBOX rows`);
  }
  for (const r of await q("SELECT a.id FROM accounts a WHERE NOT EXISTS (SELECT 1 FROM mailboxes mb WHERE mb.account_id = a.id AND mb.name = 'INBOX')")) {
    problems.push(`account ${r.id}: no INBOX`);
  }
  // Refcount = message rows + one per spool message with a pending recipient (core/spool).
  for (const r of await q(`
    SELECT b.id, b.refcount, coalesce(m.n, 0) + coalesce(s.n, 0) AS refs
    FROM blobs b
    LEFT JOIN (SELECT blob_id, count(*) AS n FROM messages GROUP BY blob_id) m ON m.blob_id = b.id
    LEFT JOIN (SELECT blob_id, count(DISTINCT msg_id) AS n FROM spool WHERE status NOT IN ('delivered', 'failed') GROUP BY blob_id) s ON s.blob_id = b.id
    WHERE b.refcount <> coalesce(m.n, 0) + coalesce(s.n, 0)
    LIMIT 100`)) {
    problems.push(`blob ${r.id}: refcount=${r.refcount} but ${r.refs} references`);
  }
  for (const r of await q("SELECT DISTINCT blob_id FROM messages WHERE blob_id NOT IN (SELECT id FROM blobs) LIMIT 10")) {
    problems.push(`messages reference blob ${r.blob_id} without a row`);
  }
  for (const r of await q("SELECT id FROM blobs WHERE refcount > 0")) {
    if (!(await ctx.blobs.has(String(r.id)))) problems.push(`blob ${r.id}: referenced but its file is missing`);
  }
  return problems;
}
