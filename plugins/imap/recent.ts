// IMAP4rev1 \Recent (RFC 3501 §2.3.2): "the message is 'recently' arrived in this mailbox.
// This session is the first session to have been notified about this message". One mark
// per mailbox — the highest UID some session was told of — kept in the database
// (imap_recent), so a restart neither makes old mail \Recent again nor loses new mail's
// \Recent; the claim is one write transaction, so two sessions (or two processes sharing
// the database) never both get a message as \Recent. The memory copy only skips the
// database when nothing new can be claimed (the common path: no new mail).
import { eq } from "drizzle-orm";
import type { Db } from "../../core/db/open.ts";
import { imapRecent } from "./schema.ts";

export class RecentMarks {
  /** A lower bound of each mailbox's stored mark (it only grows). */
  private known = new Map<number, number>();

  constructor(private db: Db) {}

  /** SELECT / new messages in a selected mailbox: of these UIDs (ascending), the ones no
   *  session was told of before; from now on they are told. */
  async claim(mailboxId: number, uids: readonly number[]): Promise<number[]> {
    const last = uids.at(-1);
    if (last === undefined || last <= (this.known.get(mailboxId) ?? -1)) return [];
    const old = await this.db.write(async (tx) => {
      const [row] = await tx.orm.select({ mark: imapRecent.mark }).from(imapRecent).where(eq(imapRecent.mailboxId, mailboxId));
      const was = row?.mark ?? 0;
      if (last > was)
        await tx.orm
          .insert(imapRecent)
          .values({ mailboxId, mark: last })
          .onConflictDoUpdate({ target: imapRecent.mailboxId, set: { mark: last } });
      return was;
    });
    this.known.set(mailboxId, Math.max(old, last));
    return uids.filter((u) => u > old);
  }

  /** EXAMINE (§6.3.2) and a read-only view: the ones no session was told of, untaken. */
  async peek(mailboxId: number, uids: readonly number[]): Promise<number[]> {
    const last = uids.at(-1);
    if (last === undefined || last <= (this.known.get(mailboxId) ?? -1)) return [];
    const mark = await this.mark(mailboxId);
    return uids.filter((u) => u > mark);
  }

  /** STATUS RECENT: how many of these UIDs no session was told of. */
  async count(mailboxId: number, uids: readonly number[]): Promise<number> {
    return (await this.peek(mailboxId, uids)).length;
  }

  private async mark(mailboxId: number): Promise<number> {
    const [row] = await this.db.orm.select({ mark: imapRecent.mark }).from(imapRecent).where(eq(imapRecent.mailboxId, mailboxId));
    const mark = row?.mark ?? 0;
    if (mark > (this.known.get(mailboxId) ?? -1)) this.known.set(mailboxId, mark);
    return mark;
  }
}
