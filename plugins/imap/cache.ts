// A cache shared by all IMAP sessions of this process, in front of the store's two hot
// reads: the (uid, modseq, flags) list of a mailbox — dropped on any change event for the
// mailbox — and the parsed-once metadata of messages, which never changes for a given
// (mailbox, uid) (UIDs are never reused, RFC 9051 §2.3.1.1) and is kept in a bounded LRU.
import type { MessageMeta, Store, StoreChange } from "../../core/store/types.ts";

export interface UidEntry {
  uid: number;
  modseq: number;
  flags: string[];
}

/** UID-list entries kept in all (about 100 bytes each). */
const MAX_LIST_ENTRIES = 200_000;

export class MailboxCache {
  /** In least-recently-used order. */
  private lists = new Map<number, UidEntry[]>();
  private listEntries = 0;
  /** Bumped by every change event: a read that raced with a change is not cached. */
  private gens = new Map<number, number>();
  private metas = new Map<string, MessageMeta>();

  constructor(
    private store: Store,
    private maxMetas: number,
  ) {}

  private dropList(mailboxId: number): void {
    const l = this.lists.get(mailboxId);
    if (!l) return;
    this.listEntries -= l.length;
    this.lists.delete(mailboxId);
  }

  onChange(ev: StoreChange): void {
    this.dropList(ev.mailboxId);
    if (ev.kind === "expunge") for (const u of ev.uids) this.metas.delete(`${ev.mailboxId}:${u}`);
    this.gens.set(ev.mailboxId, (this.gens.get(ev.mailboxId) ?? 0) + 1);
    if (ev.kind === "mailbox") {
      // Deleted or renamed: forget what we knew about its messages (ids are not reused,
      // but a dead mailbox's entries would only take room).
      for (const k of this.metas.keys()) if (k.startsWith(`${ev.mailboxId}:`)) this.metas.delete(k);
    }
  }

  /** The mailbox's messages in UID order; shared: callers must not modify it. */
  async uidList(mailboxId: number): Promise<readonly UidEntry[]> {
    const hit = this.lists.get(mailboxId);
    if (hit) {
      this.lists.delete(mailboxId);
      this.lists.set(mailboxId, hit);
      return hit;
    }
    const gen = this.gens.get(mailboxId) ?? 0;
    const list = await this.store.uidList(mailboxId);
    if ((this.gens.get(mailboxId) ?? 0) === gen && list.length <= MAX_LIST_ENTRIES) {
      this.dropList(mailboxId);
      this.lists.set(mailboxId, list);
      this.listEntries += list.length;
      while (this.listEntries > MAX_LIST_ENTRIES) this.dropList(this.lists.keys().next().value!);
    }
    return list;
  }

  /** Metadata of these UIDs (those still present), in UID order. Flags and modseq in the
   *  result may be stale: take them from uidList(). */
  async messages(mailboxId: number, uids: number[]): Promise<MessageMeta[]> {
    const out: MessageMeta[] = [];
    const missing: number[] = [];
    for (const u of uids) {
      const k = `${mailboxId}:${u}`;
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
        this.metas.set(`${mailboxId}:${m.uid}`, m);
      }
      while (this.metas.size > this.maxMetas) this.metas.delete(this.metas.keys().next().value!);
      out.sort((a, b) => a.uid - b.uid);
    }
    return out;
  }
}
