// Account-wide object views for JMAP (RFC 8620 §5.2 /changes, RFC 8621 §4.4 Email/query):
// emails by stable id, their threads, the account state (its modseq) and what changed
// since a state, from the rows' modseqs and the `destroyed` table.
import type { Row } from "@libsql/client";
import { MSG_COLS, toMeta } from "./messages.ts";
import { read, type StoreCtx } from "./ctx.ts";
import { matchesInJs, needsJs, toSql } from "./query.ts";
import type { EmailCondition, EmailSort, MessageMeta, ObjectChanges, Store } from "./types.ts";

export type ObjectOps = Pick<Store, "mailboxThreadCounts" | "accountModseq" | "emailsById" | "threadEmails" | "queryEmails" | "emailChanges" | "mailboxChanges" | "threadChanges">;

const ids = (rows: Row[], col: string) => rows.map((r) => Number(r[col]));

/** Cuts a modseq-ordered change list at maxChanges on a modseq boundary (RFC 8620 §5.2:
 *  the intermediate state must cover every change up to it). */
function cut<T extends { modseq: number }>(list: T[], max: number, now: number): { take: T[]; state: number; more: boolean } | null {
  if (list.length <= max) return { take: list, state: now, more: false };
  let end = max;
  while (end > 0 && list[end]!.modseq === list[end - 1]!.modseq) end--;
  if (end === 0) return null;
  return { take: list.slice(0, end), state: list[end - 1]!.modseq, more: true };
}

export function objectOps(ctx: StoreCtx): ObjectOps {
  async function accountModseq(accountId: number): Promise<number> {
    const r = await read(ctx, "SELECT modseq FROM accounts WHERE id = ?", [accountId]);
    return r.rows.length ? Number(r.rows[0]!.modseq) : 0;
  }

  async function emailsById(accountId: number, emailIds: number[]): Promise<MessageMeta[]> {
    if (!emailIds.length) return [];
    const r = await read(
      ctx,
      `SELECT ${MSG_COLS.split(", ")
        .map((c) => "m." + c)
        .join(", ")} FROM messages m JOIN mailboxes b ON b.id = m.mailbox_id
       WHERE m.email_id IN (SELECT value FROM json_each(?)) AND b.account_id = ?`,
      [JSON.stringify(emailIds), accountId],
    );
    return r.rows.map(toMeta);
  }

  async function threadEmails(accountId: number, threadIds: number[]): Promise<Map<number, number[]>> {
    const out = new Map<number, number[]>();
    if (!threadIds.length) return out;
    const r = await read(
      ctx,
      `SELECT m.thread_id, m.email_id FROM messages m JOIN mailboxes b ON b.id = m.mailbox_id
       WHERE m.thread_id IN (SELECT value FROM json_each(?)) AND b.account_id = ? ORDER BY m.internal_date, m.email_id`,
      [JSON.stringify(threadIds), accountId],
    );
    for (const row of r.rows) {
      const t = Number(row.thread_id);
      out.set(t, [...(out.get(t) ?? []), Number(row.email_id)]);
    }
    return out;
  }

  async function queryEmails(accountId: number, filter: EmailCondition | null, sort: EmailSort[], limit?: number): Promise<{ emailId: number; threadId: number }[]> {
    const lim = limit === undefined ? "" : ` LIMIT ${Math.max(0, Math.floor(limit))}`;
    const order = sort.map((s) => `${SORT_SQL[s.property]}${s.isAscending ? "" : " DESC"}`);
    order.push("m.email_id DESC");
    if (filter && needsJs(filter)) {
      // Body text and attachments are not columns: evaluate the whole tree on the rows.
      const r = await read(
        ctx,
        `SELECT ${MSG_COLS.split(", ")
          .map((c) => "m." + c)
          .join(", ")} FROM messages m JOIN mailboxes b ON b.id = m.mailbox_id WHERE b.account_id = ? ORDER BY ${order.join(", ")}`,
        [accountId],
      );
      const out: { emailId: number; threadId: number }[] = [];
      for (const row of r.rows) {
        const meta = toMeta(row);
        if (await matchesInJs(ctx, filter, meta)) out.push({ emailId: meta.emailId, threadId: meta.threadId });
        if (limit !== undefined && out.length >= limit) break;
      }
      return out;
    }
    const where = filter ? toSql(filter) : { sql: "1", args: [] };
    const r = await read(ctx, `SELECT m.email_id, m.thread_id FROM messages m JOIN mailboxes b ON b.id = m.mailbox_id WHERE b.account_id = ? AND (${where.sql}) ORDER BY ${order.join(", ")}${lim}`, [
      accountId,
      ...where.args,
    ]);
    return r.rows.map((x) => ({ emailId: Number(x.email_id), threadId: Number(x.thread_id) }));
  }

  /** Email/changes: live rows changed after `since` and destroyed email ids. */
  async function emailChanges(accountId: number, since: number, max: number): Promise<ObjectChanges | null> {
    const now = await accountModseq(accountId);
    if (since > now || since < 0) return null;
    const live = await read(
      ctx,
      `SELECT m.email_id, m.modseq, m.created_modseq FROM messages m JOIN mailboxes b ON b.id = m.mailbox_id
       WHERE b.account_id = ? AND m.modseq > ?`,
      [accountId, since],
    );
    const gone = await read(
      ctx,
      `SELECT object_id, modseq FROM destroyed d WHERE account_id = ? AND kind = 'email' AND modseq > ?
       AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.email_id = d.object_id)`,
      [accountId, since],
    );
    const list = [
      ...live.rows.map((r) => ({ id: Number(r.email_id), modseq: Number(r.modseq), kind: Number(r.created_modseq) > since ? ("created" as const) : ("updated" as const) })),
      ...gone.rows.map((r) => ({ id: Number(r.object_id), modseq: Number(r.modseq), kind: "destroyed" as const })),
    ].sort((a, b) => a.modseq - b.modseq);
    return collect(list, max, now);
  }

  async function mailboxChanges(accountId: number, since: number, max: number): Promise<ObjectChanges | null> {
    const now = await accountModseq(accountId);
    if (since > now || since < 0) return null;
    const live = await read(ctx, "SELECT id, created_modseq, max(changed_modseq, highest_modseq) AS m FROM mailboxes WHERE account_id = ? AND (changed_modseq > ? OR highest_modseq > ?)", [
      accountId,
      since,
      since,
    ]);
    const gone = await read(ctx, "SELECT object_id, modseq FROM destroyed WHERE account_id = ? AND kind = 'mailbox' AND modseq > ?", [accountId, since]);
    const list = [
      ...live.rows.map((r) => ({ id: Number(r.id), modseq: Number(r.m), kind: Number(r.created_modseq) > since ? ("created" as const) : ("updated" as const) })),
      ...gone.rows.map((r) => ({ id: Number(r.object_id), modseq: Number(r.modseq), kind: "destroyed" as const })),
    ].sort((a, b) => a.modseq - b.modseq);
    return collect(list, max, now);
  }

  /** Thread/changes: a thread is created when its first email is new, destroyed when its
   *  last email went, updated otherwise. */
  async function threadChanges(accountId: number, since: number, max: number): Promise<ObjectChanges | null> {
    const now = await accountModseq(accountId);
    if (since > now || since < 0) return null;
    const live = await read(
      ctx,
      `SELECT m.thread_id, max(m.modseq) AS modseq, min(m.created_modseq) AS created,
         (SELECT min(x.created_modseq) FROM messages x WHERE x.thread_id = m.thread_id) AS first
       FROM messages m JOIN mailboxes b ON b.id = m.mailbox_id WHERE b.account_id = ? AND m.modseq > ? GROUP BY m.thread_id`,
      [accountId, since],
    );
    const gone = await read(ctx, `SELECT thread_id, max(modseq) AS modseq FROM destroyed d WHERE account_id = ? AND kind = 'email' AND modseq > ? GROUP BY thread_id`, [accountId, since]);
    const seen = new Set(ids(live.rows, "thread_id"));
    const list: { id: number; modseq: number; kind: "created" | "updated" | "destroyed" }[] = live.rows.map((r) => ({
      id: Number(r.thread_id),
      modseq: Number(r.modseq),
      kind: Number(r.first) > since ? "created" : "updated",
    }));
    if (gone.rows.length) {
      const still = await read(ctx, "SELECT DISTINCT thread_id FROM messages WHERE thread_id IN (SELECT value FROM json_each(?))", [JSON.stringify(ids(gone.rows, "thread_id"))]);
      const alive = new Set(ids(still.rows, "thread_id"));
      for (const r of gone.rows) {
        const t = Number(r.thread_id);
        if (seen.has(t)) continue;
        list.push({ id: t, modseq: Number(r.modseq), kind: alive.has(t) ? "updated" : "destroyed" });
      }
    }
    list.sort((a, b) => a.modseq - b.modseq);
    return collect(list, max, now);
  }

  async function mailboxThreadCounts(accountId: number): Promise<Map<number, { total: number; unread: number }>> {
    const r = await read(
      ctx,
      `SELECT m.mailbox_id, count(DISTINCT m.thread_id) AS total, count(DISTINCT CASE WHEN (m.flags & 1) = 0 THEN m.thread_id END) AS unread
       FROM messages m JOIN mailboxes b ON b.id = m.mailbox_id WHERE b.account_id = ? GROUP BY m.mailbox_id`,
      [accountId],
    );
    return new Map(r.rows.map((x) => [Number(x.mailbox_id), { total: Number(x.total), unread: Number(x.unread) }]));
  }

  return { mailboxThreadCounts, accountModseq, emailsById, threadEmails, queryEmails, emailChanges, mailboxChanges, threadChanges };
}

const SORT_SQL: Record<EmailSort["property"], string> = {
  receivedAt: "m.internal_date",
  sentAt: "coalesce(m.sent_date, m.internal_date)",
  size: "m.size",
  from: "m.from_addr COLLATE NOCASE",
  to: "m.to_addr COLLATE NOCASE",
  subject: "m.subject COLLATE NOCASE",
};

function collect(list: { id: number; modseq: number; kind: "created" | "updated" | "destroyed" }[], max: number, now: number): ObjectChanges | null {
  const c = cut(list, max, now);
  if (!c) return null;
  const out: ObjectChanges = { created: [], updated: [], destroyed: [], newModseq: c.state, hasMoreChanges: c.more };
  const seen = new Set<number>();
  for (const x of c.take) {
    if (seen.has(x.id)) continue;
    seen.add(x.id);
    out[x.kind].push(x.id);
  }
  return out;
}
