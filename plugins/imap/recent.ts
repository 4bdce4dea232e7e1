// IMAP4rev1 \Recent (RFC 3501 §2.3.2): "the message is 'recently' arrived in this mailbox.
// This session is the first session to have been notified about this message". One mark
// per mailbox — the highest UID some session was told of. The process holds the marks
// (loaded from `imap_recent` on first use of a mailbox) and claims in memory, one session
// at a time on the event loop, so a message is \Recent to exactly one session of the
// process and the hot path (a rev1 client told of new mail) waits for no write; the
// new marks are written behind (a second later: one transaction for every claim meanwhile,
// not one per APPEND or new message), coalesced, and flushed at shutdown, so a restart
// neither makes seen mail \Recent again nor loses unseen mail's \Recent (a crash may lose
// the last second's marks: RFC 3501 lets a server approximate \Recent). (Two processes serving
// IMAP for one database each claim from what they loaded: a message may then be \Recent
// in one session of each — RFC 3501 allows a server to approximate \Recent.)
import type { Db } from "../../core/db/open.ts";

/** How long new marks wait to be written together. */
const WRITE_BEHIND_MS = 1000;

export class RecentMarks {
  private marks = new Map<number, number>();
  private loads = new Map<number, Promise<number>>();
  /** Marks to write: mailbox → mark. */
  private dirty = new Map<number, number>();
  private writing: Promise<void> | null = null;
  /** Ends the current write-behind wait at once (flush). */
  private hurry: (() => void) | null = null;

  constructor(private db: Db) {}

  /** SELECT / new messages in a selected mailbox: of these UIDs (ascending), the ones no
   *  session was told of before; from now on they are told. */
  async claim(mailboxId: number, uids: readonly number[]): Promise<number[]> {
    const last = uids.at(-1);
    if (last === undefined) return [];
    const mark = this.marks.get(mailboxId) ?? (await this.load(mailboxId));
    // (Read again: another session may have claimed while this one loaded.)
    const now = Math.max(mark, this.marks.get(mailboxId) ?? 0);
    if (last <= now) return [];
    this.marks.set(mailboxId, last);
    this.dirty.set(mailboxId, last);
    this.writing ??= this.writeSoon();
    return uids.filter((u) => u > now);
  }

  /** EXAMINE (§6.3.2) and STATUS RECENT: the ones no session was told of, untaken. */
  async peek(mailboxId: number, uids: readonly number[]): Promise<number[]> {
    if (uids.length === 0) return [];
    const mark = this.marks.get(mailboxId) ?? (await this.load(mailboxId));
    return uids.filter((u) => u > mark);
  }

  async count(mailboxId: number, uids: readonly number[]): Promise<number> {
    return (await this.peek(mailboxId, uids)).length;
  }

  /** Writes what is pending (plugin shutdown). */
  async flush(): Promise<void> {
    while (this.writing) {
      this.hurry?.();
      await this.writing;
    }
  }

  private load(mailboxId: number): Promise<number> {
    let p = this.loads.get(mailboxId);
    if (!p) {
      p = this.db
        .query({ sql: "SELECT mark FROM imap_recent WHERE mailbox_id = ?", args: [mailboxId] })
        .then((r) => {
          const stored = r.rows.length ? Number(r.rows[0]!.mark) : 0;
          const mark = Math.max(stored, this.marks.get(mailboxId) ?? 0);
          this.marks.set(mailboxId, mark);
          return mark;
        })
        .finally(() => this.loads.delete(mailboxId));
      this.loads.set(mailboxId, p);
    }
    return p;
  }

  /** One transaction for every mark changed meanwhile; a mark never goes down, and a
   *  mailbox deleted meanwhile is skipped (its row went with it). */
  private async writeSoon(): Promise<void> {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, WRITE_BEHIND_MS);
      timer.unref?.();
      this.hurry = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    this.hurry = null;
    const batch = [...this.dirty];
    this.dirty.clear();
    try {
      await this.db.write(async (tx) => {
        for (const [mailboxId, mark] of batch) {
          await tx.execute({
            sql: "INSERT INTO imap_recent(mailbox_id, mark) SELECT id, ? FROM mailboxes WHERE id = ? ON CONFLICT(mailbox_id) DO UPDATE SET mark = max(mark, excluded.mark)",
            args: [mark, mailboxId],
          });
        }
      });
    } catch {
      // A full disk or a closing database: \Recent is advisory; memory stays right.
    } finally {
      this.writing = this.dirty.size ? this.writeSoon() : null;
    }
  }
}
