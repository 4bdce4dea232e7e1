// The selected mailbox as one session sees it (RFC 9051 §2.3.1.2, §7.5.1): its own
// UID ↔ sequence-number map, which lags the store until the session may tell the client.
import type { Mailbox } from "../../core/store/types.ts";

export class Selected {
  /** Store changed since the last sync (set by store.onChange). */
  dirty = false;
  /** Changes other than new messages happened: compare with the whole list. */
  needFull = false;
  /** The mailbox itself changed (renamed, deleted): look it up again. */
  mailboxChanged = false;
  /** New messages announced by events: [uid, modseq]. */
  appended: [number, number][] = [];
  /** Keywords the client was told about by FLAGS (RFC 9051 §7.3.5): a new one is announced
   *  before any FETCH shows it. */
  keywords = new Set<string>();
  /** IMAP4rev1 \Recent (RFC 3501 §2.3.2): UIDs this session was the first to see. */
  recent = new Set<number>();

  constructor(
    public mailbox: Mailbox,
    public readOnly: boolean,
    /** Sequence number i+1 ↔ uids[i], ascending. */
    public uids: number[],
    /** Modseq of each message as last told to the client (flag changes are noticed by it). */
    public modseqs: number[],
  ) {}

  get id(): number {
    return this.mailbox.id;
  }

  /** 0-based index of a UID, or -1. */
  indexOf(uid: number): number {
    let lo = 0;
    let hi = this.uids.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const v = this.uids[mid]!;
      if (v === uid) return mid;
      if (v < uid) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }

  /** Remove one message from the map (after telling the client). */
  removeAt(i: number): void {
    if (this.recent.size) this.recent.delete(this.uids[i]!);
    this.uids.splice(i, 1);
    this.modseqs.splice(i, 1);
  }

  setModseq(uid: number, modseq: number): void {
    const i = this.indexOf(uid);
    if (i >= 0) this.modseqs[i] = modseq;
  }
}
