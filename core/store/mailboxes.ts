// Mailboxes (RFC 9051 §6.3.4–6.3.9): create with superiors, delete (refused with children),
// rename with inferiors and the INBOX special case, subscriptions.
import type { Tx } from "../db/open.ts";
import { StoreError } from "./errors.ts";
import { DELIM, normalizeMailboxName, superiors, validateMailboxName } from "./names.ts";
import { emitAfterCommit, exec, MAILBOX_COLS, nextModseq, nextUidvalidity, read, toMailbox, unrefMessages, type StoreCtx } from "./ctx.ts";
import type { Mailbox, Store } from "./types.ts";

/** Bound on mailboxes per account (a client looping CREATE must not grow it forever). */
export const MAX_MAILBOXES = 10_000;

const SPECIAL_USES = new Set(["\\All", "\\Archive", "\\Drafts", "\\Flagged", "\\Junk", "\\Sent", "\\Trash"]);

/** SQL condition (case-sensitive, unlike LIKE) for "name is an inferior of ?"; pass
 *  inferiorArgs(name). */
export const INFERIOR = "substr(name, 1, length(?)) = ?";
export function inferiorArgs(name: string): [string, string] {
  return [name + DELIM, name + DELIM];
}

export async function getMailboxInTx(tx: Tx, accountId: number, name: string): Promise<Mailbox | null> {
  const r = await exec(tx, `SELECT ${MAILBOX_COLS} FROM mailboxes WHERE account_id = ? AND name = ?`, [accountId, normalizeMailboxName(name)]);
  return r.rows.length ? toMailbox(r.rows[0]!) : null;
}

/** Inserts one mailbox row (no superiors); ALREADYEXISTS if taken. */
async function insertMailbox(ctx: StoreCtx, tx: Tx, accountId: number, name: string, specialUse: string | null): Promise<Mailbox> {
  const n = await exec(tx, "SELECT count(*) AS n FROM mailboxes WHERE account_id = ?", [accountId]);
  if (Number(n.rows[0]!.n) >= MAX_MAILBOXES) throw new StoreError("CANNOT", `too many mailboxes (limit ${MAX_MAILBOXES})`);
  const uidvalidity = await nextUidvalidity(tx);
  // A new mailbox is an account change (JMAP Mailbox/changes "created").
  const modseq = await nextModseq(tx, accountId);
  const r = await exec(
    tx,
    `INSERT INTO mailboxes(account_id, name, special_use, uidvalidity, uidnext, highest_modseq, messages, unseen, size, subscribed, created_modseq, changed_modseq)
     VALUES (?, ?, ?, ?, 1, 1, 0, 0, 0, 1, ?, ?) ON CONFLICT(account_id, name) DO NOTHING RETURNING ${MAILBOX_COLS}`,
    [accountId, name, specialUse, uidvalidity, modseq, modseq],
  );
  if (!r.rows.length) throw new StoreError("ALREADYEXISTS", `mailbox ${name} exists`);
  const mb = toMailbox(r.rows[0]!);
  emitAfterCommit(ctx, tx, { accountId, mailboxId: mb.id, kind: "mailbox", uids: [], modseq });
  return mb;
}

/** Creates `name` and any missing superiors (RFC 9051 §6.3.4). */
export async function createMailboxInTx(ctx: StoreCtx, tx: Tx, accountId: number, rawName: string, specialUse: string | null = null): Promise<Mailbox> {
  const name = normalizeMailboxName(rawName);
  validateMailboxName(name);
  if (specialUse !== null && !SPECIAL_USES.has(specialUse)) throw new StoreError("INVALID", `unknown special-use ${specialUse}`);
  for (const sup of superiors(name)) {
    if (!(await getMailboxInTx(tx, accountId, sup))) await insertMailbox(ctx, tx, accountId, sup, null);
  }
  return insertMailbox(ctx, tx, accountId, name, specialUse);
}

export type MailboxOps = Pick<Store, "listMailboxes" | "getMailbox" | "getMailboxById" | "createMailbox" | "deleteMailbox" | "renameMailbox" | "setSubscribed">;

export function mailboxOps(ctx: StoreCtx): MailboxOps {
  const { db } = ctx;

  async function listMailboxes(accountId: number): Promise<Mailbox[]> {
    const r = await read(ctx, `SELECT ${MAILBOX_COLS} FROM mailboxes WHERE account_id = ? ORDER BY name <> 'INBOX', name`, [accountId]);
    return r.rows.map(toMailbox);
  }

  async function getMailbox(accountId: number, name: string): Promise<Mailbox | null> {
    const r = await read(ctx, `SELECT ${MAILBOX_COLS} FROM mailboxes WHERE account_id = ? AND name = ?`, [accountId, normalizeMailboxName(name)]);
    return r.rows.length ? toMailbox(r.rows[0]!) : null;
  }

  async function getMailboxById(id: number): Promise<Mailbox | null> {
    const r = await read(ctx, `SELECT ${MAILBOX_COLS} FROM mailboxes WHERE id = ?`, [id]);
    return r.rows.length ? toMailbox(r.rows[0]!) : null;
  }

  async function createMailbox(accountId: number, name: string, specialUse: string | null = null): Promise<Mailbox> {
    return db.write(async (tx) => {
      const acct = await exec(tx, "SELECT 1 FROM accounts WHERE id = ?", [accountId]);
      if (!acct.rows.length) throw new StoreError("NONEXISTENT", `no account ${accountId}`);
      return createMailboxInTx(ctx, tx, accountId, name, specialUse);
    });
  }

  /** RFC 9051 §6.3.5. INBOX cannot be deleted; a mailbox with inferiors is refused
   *  (we do not keep \Noselect placeholders). Its messages' blob references are dropped. */
  async function deleteMailbox(accountId: number, rawName: string): Promise<void> {
    const name = normalizeMailboxName(rawName);
    if (name === "INBOX") throw new StoreError("CANNOT", "INBOX cannot be deleted");
    await db.write(async (tx) => {
      const mb = await getMailboxInTx(tx, accountId, name);
      if (!mb) throw new StoreError("NONEXISTENT", `no mailbox ${name}`);
      const kids = await exec(tx, `SELECT 1 FROM mailboxes WHERE account_id = ? AND ${INFERIOR} LIMIT 1`, [accountId, ...inferiorArgs(name)]);
      if (kids.rows.length) throw new StoreError("HASCHILDREN", `mailbox ${name} has inferior mailboxes`);
      const modseq = await nextModseq(tx, accountId);
      // Its emails and the mailbox itself are destroyed objects (JMAP */changes).
      await exec(
        tx,
        `INSERT OR REPLACE INTO destroyed(account_id, kind, object_id, thread_id, modseq)
         SELECT ?, 'email', email_id, thread_id, ? FROM messages WHERE mailbox_id = ?
         UNION ALL SELECT ?, 'mailbox', ?, 0, ?`,
        [accountId, modseq, mb.id, accountId, mb.id, modseq],
      );
      await unrefMessages(tx, "mailbox_id = ?", [mb.id]);
      await exec(tx, "DELETE FROM messages WHERE mailbox_id = ?", [mb.id]);
      await exec(tx, "DELETE FROM tombstones WHERE mailbox_id = ?", [mb.id]);
      await exec(tx, "DELETE FROM mailboxes WHERE id = ?", [mb.id]);
      emitAfterCommit(ctx, tx, { accountId, mailboxId: mb.id, kind: "mailbox", uids: [], modseq });
    });
  }

  /** RFC 9051 §6.3.6: inferiors are renamed too; superiors of the new name are created.
   *  Renaming INBOX moves its messages to the new name and leaves an empty INBOX (with a
   *  new UIDVALIDITY); INBOX's inferiors stay where they are. */
  async function renameMailbox(accountId: number, rawFrom: string, rawTo: string): Promise<void> {
    const from = normalizeMailboxName(rawFrom);
    const to = normalizeMailboxName(rawTo);
    validateMailboxName(to);
    if (to === "INBOX") throw new StoreError("ALREADYEXISTS", "INBOX exists");
    if (to === from) throw new StoreError("ALREADYEXISTS", `mailbox ${to} exists`);
    if (to.startsWith(from + DELIM)) throw new StoreError("CANNOT", "cannot rename a mailbox into its own inferior");
    await db.write(async (tx) => {
      const mb = await getMailboxInTx(tx, accountId, from);
      if (!mb) throw new StoreError("NONEXISTENT", `no mailbox ${from}`);
      if (await getMailboxInTx(tx, accountId, to)) throw new StoreError("ALREADYEXISTS", `mailbox ${to} exists`);
      for (const sup of superiors(to)) {
        if (!(await getMailboxInTx(tx, accountId, sup))) await insertMailbox(ctx, tx, accountId, sup, null);
      }
      const modseq = await nextModseq(tx, accountId);
      await exec(tx, "UPDATE mailboxes SET name = ?, changed_modseq = ? WHERE id = ?", [to, modseq, mb.id]);
      emitAfterCommit(ctx, tx, { accountId, mailboxId: mb.id, kind: "mailbox", uids: [], modseq });
      if (from === "INBOX") {
        await insertMailbox(ctx, tx, accountId, "INBOX", null);
        return;
      }
      const kids = await exec(tx, `SELECT id, name FROM mailboxes WHERE account_id = ? AND ${INFERIOR} ORDER BY name`, [accountId, ...inferiorArgs(from)]);
      for (const k of kids.rows) {
        const newName = to + String(k.name).slice(from.length);
        if (await getMailboxInTx(tx, accountId, newName)) throw new StoreError("ALREADYEXISTS", `mailbox ${newName} exists`);
        await exec(tx, "UPDATE mailboxes SET name = ?, changed_modseq = ? WHERE id = ?", [newName, modseq, Number(k.id)]);
        emitAfterCommit(ctx, tx, { accountId, mailboxId: Number(k.id), kind: "mailbox", uids: [], modseq });
      }
    });
  }

  async function setSubscribed(accountId: number, name: string, subscribed: boolean): Promise<void> {
    await db.write(async (tx) => {
      const mb = await getMailboxInTx(tx, accountId, name);
      if (!mb) throw new StoreError("NONEXISTENT", `no mailbox ${name}`);
      if (mb.subscribed === subscribed) return;
      const modseq = await nextModseq(tx, accountId);
      await exec(tx, "UPDATE mailboxes SET subscribed = ?, changed_modseq = ? WHERE id = ?", [subscribed ? 1 : 0, modseq, mb.id]);
      emitAfterCommit(ctx, tx, { accountId, mailboxId: mb.id, kind: "mailbox", uids: [], modseq });
    });
  }

  return { listMailboxes, getMailbox, getMailboxById, createMailbox, deleteMailbox, renameMailbox, setSubscribed };
}
