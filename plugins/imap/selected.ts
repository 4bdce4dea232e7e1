// The selected mailbox as one session sees it (RFC 9051 §2.3.1.2, §7.5.1): its own
// UID ↔ sequence-number map, which lags the store until the session may tell the client.
//
// The map is kept in typed arrays shared between the sessions that see the same messages
// (1,000 sessions on a 1,000-message mailbox would otherwise hold 16 MB of copies): a
// shared run is append-only, each session reads its first `n` entries, and a session
// whose view departs from it (an expunge, a flag change, a different new message) copies
// it first. After a full sync a session goes back to the run of the cache's list.
import type { Mailbox } from "../../core/store/types.ts";
import type { UidEntry } from "./cache.ts";

/** An append-only run of (uid, modseq) pairs; entries below `used` never change. */
interface Run {
  uids: Uint32Array;
  modseqs: Float64Array;
  used: number;
}

function newRun(capacity: number): Run {
  return { uids: new Uint32Array(capacity), modseqs: new Float64Array(capacity), used: 0 };
}

/** Room for a few new messages before a run is copied into a larger one. */
const headroom = (n: number): number => n + Math.max(16, n >>> 4);

/** The run of a cache list (lists are shared and never modified: see cache.ts). */
const runs = new WeakMap<readonly UidEntry[], Run>();
function runOf(list: readonly UidEntry[]): Run {
  let run = runs.get(list);
  if (!run) {
    run = newRun(headroom(list.length));
    for (let i = 0; i < list.length; i++) {
      run.uids[i] = list[i]!.uid;
      run.modseqs[i] = list[i]!.modseq;
    }
    run.used = list.length;
    runs.set(list, run);
  }
  return run;
}

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
  /** The highest UID this session knows was given (expunged since or not). UIDs are given
   *  one after another (uidnext), so a new one above top + 1 means one not seen yet. */
  top = 0;
  /** The highest modseq of a change this session heard of: a full sync reads a list
   *  complete to it. */
  heard = 0;

  private run: Run;
  /** Messages in this session's map: the first n entries of `run`. */
  private n: number;
  /** `run` is this session's own copy (no other session reads it). */
  private own = false;
  private uidView: Uint32Array | null = null;
  private modseqView: Float64Array | null = null;

  constructor(
    public mailbox: Mailbox,
    public readOnly: boolean,
    /** The cache's list of the mailbox, in UID order. */
    list: readonly UidEntry[],
  ) {
    this.run = runOf(list);
    this.n = list.length;
    this.top = list.length ? list[list.length - 1]!.uid : 0;
  }

  get id(): number {
    return this.mailbox.id;
  }

  /** Sequence number i+1 ↔ uids[i], ascending (read-only: change it with the methods). */
  get uids(): Uint32Array {
    return (this.uidView ??= this.run.uids.subarray(0, this.n));
  }

  /** Modseq of each message as last told to the client (flag changes are noticed by it). */
  get modseqs(): Float64Array {
    return (this.modseqView ??= this.run.modseqs.subarray(0, this.n));
  }

  private moved(): void {
    this.uidView = this.modseqView = null;
  }

  /** Make `run` this session's own, with room for `capacity` entries. */
  private copy(capacity: number): void {
    const run = newRun(capacity);
    run.uids.set(this.run.uids.subarray(0, this.n));
    run.modseqs.set(this.run.modseqs.subarray(0, this.n));
    run.used = this.n;
    this.run = run;
    this.own = true;
    this.moved();
  }

  /** 0-based index of a UID, or -1. */
  indexOf(uid: number): number {
    const uids = this.run.uids;
    let lo = 0;
    let hi = this.n - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const v = uids[mid]!;
      if (v === uid) return mid;
      if (v < uid) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }

  /** Add a message at the end (its UID above all in the map). */
  push(uid: number, modseq: number): void {
    const run = this.run;
    const n = this.n;
    if (run.used === n && n < run.uids.length) {
      // At the end of the run (shared or not): write in place; sessions behind us that
      // see the same message next will just follow.
      run.uids[n] = uid;
      run.modseqs[n] = modseq;
      run.used++;
    } else if (!(n < run.used && run.uids[n] === uid && run.modseqs[n] === modseq)) {
      // Another message follows ours in the shared run, or the run is full.
      this.copy(headroom(n + 1));
      this.run.uids[n] = uid;
      this.run.modseqs[n] = modseq;
      this.run.used++;
    }
    this.n = n + 1;
    if (uid > this.top) this.top = uid;
    this.moved();
  }

  /** Remove one message from the map (after telling the client). */
  removeAt(i: number): void {
    if (this.recent.size) this.recent.delete(this.run.uids[i]!);
    if (!this.own) this.copy(headroom(this.n));
    this.run.uids.copyWithin(i, i + 1, this.n);
    this.run.modseqs.copyWithin(i, i + 1, this.n);
    this.n--;
    this.run.used = this.n;
    this.moved();
  }

  setModseqAt(i: number, modseq: number): void {
    if (this.run.modseqs[i] === modseq) return;
    if (!this.own) this.copy(headroom(this.n));
    this.run.modseqs[i] = modseq;
  }

  setModseq(uid: number, modseq: number): void {
    const i = this.indexOf(uid);
    if (i >= 0) this.setModseqAt(i, modseq);
  }

  /** After a full sync: when the map equals the cache's list again, share its run. */
  adopt(list: readonly UidEntry[]): void {
    if (list.length !== this.n) return;
    const { uids, modseqs } = this.run;
    for (let i = 0; i < list.length; i++) if (uids[i] !== list[i]!.uid || modseqs[i] !== list[i]!.modseq) return;
    const run = runOf(list);
    if (run === this.run) return;
    this.run = run;
    this.own = false;
    this.moved();
  }
}
