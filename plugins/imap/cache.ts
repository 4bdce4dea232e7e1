// A cache shared by all IMAP sessions of this process, in front of the store's two hot
// reads: the (uid, modseq, flags) list of a mailbox — updated in place from this process's
// change events (re-read only when an event does not carry enough), and known complete to
// a modseq, so a caller that must see what other processes committed (SELECT, STATUS, a
// full sync) gets it caught up from the database — and the parsed-once metadata of
// messages, which never changes for a given (mailbox, uid) (UIDs are never reused,
// RFC 9051 §2.3.1.1) and is kept in a bounded LRU.
import type { MessageMeta, Store, StoreChange } from "../../core/store/types.ts";

export interface UidEntry {
  uid: number;
  modseq: number;
  flags: string[];
}

/** UID-list entries kept in all (about 100 bytes each). */
const MAX_LIST_ENTRIES = 200_000;

/** A cached list and the modseq it is known to be complete to: every change to the
 *  mailbox up to `upTo` is in it (a later one may be too). */
interface CachedList {
  list: readonly UidEntry[];
  upTo: number;
}

export class MailboxCache {
  /** In least-recently-used order. */
  private lists = new Map<number, CachedList>();
  private listEntries = 0;
  /** Bumped by every change event: a read that raced with a change is not cached. */
  private gens = new Map<number, number>();
  /** Per account: the latest run of modseqs our own writes took one after another. */
  private runs = new Map<number, { from: number; last: number }>();
  /** Settles when the latest read of a mailbox's list ends. */
  private reading = new Map<number, Promise<void>>();
  /** Keyed by metaKey(mailbox, uid); in least-recently-used order. */
  private metas = new Map<number | string, MessageMeta>();

  /** Email and thread ids (OBJECTID) by metaKey, for FETCHes that want nothing else of
   *  the row (imapflow asks EMAILID with every FETCH); fixed for a (mailbox, uid) too. */
  private ids = new Map<number | string, { emailId: number; threadId: number }>();

  constructor(
    private store: Store,
    private maxMetas: number,
  ) {}

  private dropList(mailboxId: number): void {
    const l = this.lists.get(mailboxId);
    if (!l) return;
    this.listEntries -= l.list.length;
    this.lists.delete(mailboxId);
  }

  onChange(ev: StoreChange): void {
    this.gens.set(ev.mailboxId, (this.gens.get(ev.mailboxId) ?? 0) + 1);
    if (ev.kind === "expunge") {
      for (const u of ev.uids) {
        this.metas.delete(metaKey(ev.mailboxId, u));
        this.ids.delete(metaKey(ev.mailboxId, u));
      }
    }
    if (ev.kind === "mailbox") {
      this.dropList(ev.mailboxId);
      // Deleted or renamed: forget what we knew about its messages (ids are not reused,
      // but a dead mailbox's entries would only take room).
      for (const [k, m] of this.metas) if (m.mailboxId === ev.mailboxId) this.metas.delete(k);
      return;
    }
    // Another process's change (the change feed) was read some time ago and may come after
    // our own later ones (an append of a message we have since expunged): not patched in.
    // The list stays complete to its modseq; whoever needs the change asks for a list
    // complete to it (its modseq) and gets it caught up.
    if (ev.remote) return;
    const run = this.ownRun(ev);
    const cached = this.lists.get(ev.mailboxId);
    if (!cached) return;
    this.dropList(ev.mailboxId);
    // Our own events come after each commit, in commit order: a cached list patched with
    // them equals a fresh read. A change it cannot apply exactly drops the list.
    const next = patch(cached.list, ev);
    if (!next) return;
    // Complete to this change if no one else writes, or if every modseq since the list's
    // was ours: another process's change below it may not have reached us yet.
    const complete = !this.store.othersWrite() || cached.upTo >= run.from;
    this.keep(ev.mailboxId, next, complete ? Math.max(cached.upTo, ev.modseq) : cached.upTo);
  }

  /** The account's modseqs (from, last] were all given to our own writes: each one next to
   *  the one before (modseqs count per account: ctx.ts nextModseq), nobody else's between. */
  private ownRun(ev: StoreChange): { from: number; last: number } {
    let run = this.runs.get(ev.accountId);
    if (!run) this.runs.set(ev.accountId, (run = { from: ev.modseq - 1, last: ev.modseq }));
    else if (ev.modseq === run.last + 1) run.last = ev.modseq;
    else if (ev.modseq !== run.last) {
      run.from = ev.modseq - 1;
      run.last = ev.modseq;
    }
    return run;
  }

  private keep(mailboxId: number, list: readonly UidEntry[], upTo: number): void {
    this.dropList(mailboxId);
    if (list.length > MAX_LIST_ENTRIES) return;
    this.lists.set(mailboxId, { list, upTo });
    this.listEntries += list.length;
    while (this.listEntries > MAX_LIST_ENTRIES) this.dropList(this.lists.keys().next().value!);
  }

  /** The mailbox's messages in UID order; shared: callers must not modify it.
   *  `atLeast`: a modseq the list must be complete to (the mailbox's highest modseq read
   *  from the database just before: SELECT and STATUS show what others had committed by
   *  then, even when this process has not heard of it yet). */
  async uidList(mailboxId: number, atLeast = 0): Promise<readonly UidEntry[]> {
    let hit = this.lists.get(mailboxId);
    // One read of a list at a time: sessions told of the same change sync at once, and the
    // one read serves them all; nor can an older read's list replace a newer one's.
    for (let reading = hit ? undefined : this.reading.get(mailboxId); reading; reading = hit ? undefined : this.reading.get(mailboxId)) {
      await reading;
      hit = this.lists.get(mailboxId);
    }
    if (hit) {
      this.lists.delete(mailboxId);
      if (hit.upTo >= atLeast) {
        this.lists.set(mailboxId, hit);
        return hit.list;
      }
      // Behind the database: not kept (nor patched by events) while the fresh read runs.
      this.listEntries -= hit.list.length;
    }
    const gen = this.gens.get(mailboxId) ?? 0;
    // Behind: only what changed since the modseq it is complete to (a few rows, where a
    // SELECT after another process's write would otherwise read the whole mailbox).
    const base = hit;
    const pending: Promise<readonly UidEntry[]> = base
      ? Promise.all([this.store.uidList(mailboxId, base.upTo), this.store.vanished(mailboxId, base.upTo)]).then(([changed, gone]) => catchUp(base.list, changed, gone))
      : this.store.uidList(mailboxId);
    const settled = pending.then(
      () => {},
      () => {},
    );
    this.reading.set(mailboxId, settled);
    let list: readonly UidEntry[];
    try {
      list = await pending;
    } finally {
      if (this.reading.get(mailboxId) === settled) this.reading.delete(mailboxId);
    }
    if ((this.gens.get(mailboxId) ?? 0) === gen) {
      // Writes are numbered in commit order (per account): this read holds every change
      // up to `atLeast` (committed before it began) and up to its own highest row.
      let upTo = Math.max(atLeast, hit?.upTo ?? 0);
      for (let i = 0; i < list.length; i++) if (list[i]!.modseq > upTo) upTo = list[i]!.modseq;
      this.keep(mailboxId, list, upTo);
    }
    return list;
  }

  /** Email and thread ids of these UIDs (those still present), by UID. */
  async objectIds(mailboxId: number, uids: readonly number[]): Promise<Map<number, { emailId: number; threadId: number }>> {
    const out = new Map<number, { emailId: number; threadId: number }>();
    const missing: number[] = [];
    for (const u of uids) {
      const k = metaKey(mailboxId, u);
      const hit = this.ids.get(k) ?? this.metas.get(k);
      if (hit) out.set(u, { emailId: hit.emailId, threadId: hit.threadId });
      else missing.push(u);
    }
    if (missing.length) {
      for (const r of await this.store.objectIds(mailboxId, missing)) {
        const v = { emailId: r.emailId, threadId: r.threadId };
        out.set(r.uid, v);
        this.ids.set(metaKey(mailboxId, r.uid), v);
      }
      // Bounded like the UID lists (a few dozen bytes each); oldest first out.
      while (this.ids.size > MAX_LIST_ENTRIES) this.ids.delete(this.ids.keys().next().value!);
    }
    return out;
  }

  /** Metadata of these UIDs (those still present), in UID order. Flags and modseq in the
   *  result may be stale: take them from uidList(). */
  async messages(mailboxId: number, uids: number[]): Promise<MessageMeta[]> {
    const out: MessageMeta[] = [];
    const missing: number[] = [];
    for (const u of uids) {
      const k = metaKey(mailboxId, u);
      const m = this.metas.get(k);
      if (m) {
        // LRU: move to the end.
        this.metas.delete(k);
        this.metas.set(k, m);
        out.push(m);
      } else missing.push(u);
    }
    if (missing.length) {
      for (const m of await this.store.messages(mailboxId, { uids: missing })) {
        out.push(m);
        this.metas.set(metaKey(mailboxId, m.uid), m);
      }
      while (this.metas.size > this.maxMetas) this.metas.delete(this.metas.keys().next().value!);
      out.sort((a, b) => a.uid - b.uid);
    }
    return out;
  }
}

/** One number for (mailbox, UID) while it fits in a double exactly (UIDs are 32-bit). */
function metaKey(mailboxId: number, uid: number): number | string {
  return mailboxId < 2 ** 20 ? mailboxId * 2 ** 32 + uid : `${mailboxId}:${uid}`;
}

/** A new list (cached lists are shared, never modified) with the change applied, or null
 *  when the event lacks what an exact update needs. */
export function patch(list: readonly UidEntry[], ev: StoreChange): UidEntry[] | null {
  if (ev.kind === "expunge") {
    const gone = new Set(ev.uids);
    return list.filter((e) => !gone.has(e.uid));
  }
  const flags = ev.flags;
  if (!flags || flags.length !== ev.uids.length) return null;
  if (ev.kind === "append") {
    let last = list.length ? list[list.length - 1]!.uid : 0;
    const out = list.slice();
    for (let i = 0; i < ev.uids.length; i++) {
      const uid = ev.uids[i]!;
      // New UIDs are always above the old ones (RFC 9051 §2.3.1.1); anything else: re-read.
      if (uid <= last) return null;
      out.push({ uid, modseq: ev.modseq, flags: flags[i]! });
      last = uid;
    }
    return out;
  }
  if (ev.kind === "flags") {
    const out = list.slice();
    for (let i = 0; i < ev.uids.length; i++) {
      const at = indexOfUid(out, ev.uids[i]!);
      if (at < 0) return null;
      out[at] = { uid: ev.uids[i]!, modseq: ev.modseq, flags: flags[i]! };
    }
    return out;
  }
  return null;
}

/** A list complete to some modseq, brought up to date with the messages added or changed
 *  since (ascending by UID) and the UIDs expunged since: a new list (lists are shared). */
export function catchUp(list: readonly UidEntry[], changed: readonly UidEntry[], vanished: readonly number[]): UidEntry[] {
  const gone = vanished.length ? new Set(vanished) : null;
  const out: UidEntry[] = [];
  let j = 0;
  for (let i = 0; i < list.length; i++) {
    const e = list[i]!;
    while (j < changed.length && changed[j]!.uid < e.uid) out.push(changed[j++]!);
    out.push(j < changed.length && changed[j]!.uid === e.uid ? changed[j++]! : e);
  }
  while (j < changed.length) out.push(changed[j++]!);
  return gone ? out.filter((e) => !gone.has(e.uid)) : out;
}

/** Index of a UID in a list ascending by UID, or -1. */
export function indexOfUid(list: readonly UidEntry[], uid: number): number {
  let lo = 0;
  let hi = list.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const v = list[mid]!.uid;
    if (v === uid) return mid;
    if (v < uid) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}
