import { expect, test } from "bun:test";
import type { MessageMeta, Store, StoreChange } from "../../core/store/types.ts";
import { catchUp, MailboxCache } from "./cache.ts";

/** A store stub counting the reads the cache lets through; `others` says whether other
 *  processes write the database; `hold` makes the next reads wait for `release()`. */
function stub() {
  const calls = { uidList: 0, messages: 0 };
  const lists = new Map<number, { uid: number; modseq: number; flags: string[] }[]>([[1, [{ uid: 1, modseq: 2, flags: [] }]]]);
  const ctl = { others: false, hold: false, held: [] as (() => void)[], tombstones: [] as { uid: number; modseq: number }[] };
  const store = {
    othersWrite: () => ctl.others,
    async uidList(id: number, since?: number) {
      calls.uidList++;
      const snapshot = (lists.get(id) ?? []).filter((e) => since === undefined || e.modseq > since);
      if (ctl.hold) await new Promise<void>((r) => ctl.held.push(r));
      return snapshot;
    },
    async vanished(_id: number, since: number) {
      return ctl.tombstones.filter((t) => t.modseq > since).map((t) => t.uid);
    },
    async messages(_id: number, opts?: { uids?: number[] }) {
      calls.messages++;
      return (opts?.uids ?? []).map((uid) => ({ uid }) as MessageMeta);
    },
  } as unknown as Store;
  return { store, calls, lists, ctl };
}
const ev = (kind: StoreChange["kind"], uids: number[] = []): StoreChange => ({ accountId: 1, mailboxId: 1, kind, uids, modseq: 3 });

test("uid lists are cached until a change event for the mailbox", async () => {
  const { store, calls, lists } = stub();
  const c = new MailboxCache(store, 10);
  await c.uidList(1);
  await c.uidList(1);
  expect(calls.uidList).toBe(1);
  lists.set(1, [{ uid: 1, modseq: 3, flags: ["\\Seen"] }]);
  c.onChange(ev("flags", [1]));
  expect((await c.uidList(1))[0]!.flags).toEqual(["\\Seen"]);
  expect(calls.uidList).toBe(2);
});

test("a read racing with a change is not cached", async () => {
  const { store, calls } = stub();
  const c = new MailboxCache(store, 10);
  const p = c.uidList(1);
  c.onChange(ev("append", [2]));
  await p;
  await c.uidList(1);
  expect(calls.uidList).toBe(2);
});

test("metadata: LRU-bounded, expunged entries dropped", async () => {
  const { store, calls } = stub();
  const c = new MailboxCache(store, 2);
  await c.messages(1, [1, 2]);
  await c.messages(1, [1, 2]);
  expect(calls.messages).toBe(1);
  await c.messages(1, [3]); // evicts the least recently used (1)
  await c.messages(1, [2, 3]);
  expect(calls.messages).toBe(2);
  await c.messages(1, [1]);
  expect(calls.messages).toBe(3);
  c.onChange(ev("expunge", [3]));
  await c.messages(1, [3]);
  expect(calls.messages).toBe(4);
});

test("events that carry flags update the cached list in place (no re-read)", async () => {
  const { store, calls, lists } = stub();
  lists.set(1, [
    { uid: 1, modseq: 2, flags: [] },
    { uid: 2, modseq: 2, flags: ["\\Seen"] },
  ]);
  const c = new MailboxCache(store, 10);
  const before = await c.uidList(1);
  c.onChange({ ...ev("flags", [2]), modseq: 5, flags: [["\\Flagged", "\\Seen"]] });
  c.onChange({ ...ev("append", [7]), modseq: 6, flags: [["$Junk"]] });
  c.onChange({ ...ev("expunge", [1]), modseq: 7 });
  expect(await c.uidList(1)).toEqual([
    { uid: 2, modseq: 5, flags: ["\\Flagged", "\\Seen"] },
    { uid: 7, modseq: 6, flags: ["$Junk"] },
  ]);
  expect(calls.uidList).toBe(1);
  // A list handed out earlier is never modified.
  expect(before.map((e) => e.uid)).toEqual([1, 2]);
  expect(before[1]!.flags).toEqual(["\\Seen"]);
  // An append below the highest UID or a flag change of an unknown UID: read again.
  c.onChange({ ...ev("append", [3]), flags: [[]] });
  await c.uidList(1);
  expect(calls.uidList).toBe(2);
  c.onChange({ ...ev("flags", [99]), flags: [[]] });
  await c.uidList(1);
  expect(calls.uidList).toBe(3);
  c.onChange(ev("mailbox"));
  await c.uidList(1);
  expect(calls.uidList).toBe(4);
});

// listen.processes > 1 (issue 18: `imap.ts --processes 2` once got "BAD Invalid message
// sequence number"): another process's writes reach this one's cache only through the
// change feed, up to a poll later and possibly after our own later writes.

test("a list behind the mailbox's modseq (another process wrote) is read again", async () => {
  const { store, calls, lists, ctl } = stub();
  ctl.others = true;
  const c = new MailboxCache(store, 10);
  expect((await c.uidList(1, 2)).map((e) => e.uid)).toEqual([1]);
  // The other process appended uid 2 at modseq 3; its event has not come yet.
  lists.set(1, [...lists.get(1)!, { uid: 2, modseq: 3, flags: [] }]);
  expect((await c.uidList(1)).map((e) => e.uid)).toEqual([1]); // no bound: the cached list
  expect((await c.uidList(1, 3)).map((e) => e.uid)).toEqual([1, 2]);
  expect(calls.uidList).toBe(2);
  // Complete to modseq 3 now: no further read at that bound.
  await c.uidList(1, 3);
  expect(calls.uidList).toBe(2);
});

test("own events make a list complete to their modseq only when no one else writes", async () => {
  const { store, calls, ctl } = stub();
  const c = new MailboxCache(store, 10);
  await c.uidList(1, 2);
  c.onChange({ ...ev("append", [5]), modseq: 9, flags: [[]] });
  expect((await c.uidList(1, 9)).map((e) => e.uid)).toEqual([1, 5]);
  expect(calls.uidList).toBe(1);
  // With other writers, modseq 10 may be theirs and not in the list yet.
  ctl.others = true;
  c.onChange({ ...ev("append", [6]), modseq: 11, flags: [[]] });
  await c.uidList(1, 11);
  expect(calls.uidList).toBe(2);
  // Ours one after another (12, 13): nobody else's between, so complete to the last.
  c.onChange({ ...ev("flags", [6]), modseq: 12, flags: [["\\Seen"]] });
  c.onChange({ ...ev("expunge", [5]), modseq: 13 });
  expect((await c.uidList(1, 13)).map((e) => e.uid)).toEqual([1, 6]);
  expect(calls.uidList).toBe(2);
});

test("another process's event is not patched in: the list catches up when asked", async () => {
  const { store, calls, ctl } = stub();
  ctl.others = true;
  const c = new MailboxCache(store, 10);
  await c.uidList(1, 2);
  // The feed read uid 2 (appended elsewhere at 4) before we expunged it here (5); its event
  // comes after ours. Patched in, uid 2 would come back from the dead.
  ctl.tombstones.push({ uid: 2, modseq: 5 });
  c.onChange({ ...ev("expunge", [2]), modseq: 5 });
  c.onChange({ ...ev("append", [2]), modseq: 4, flags: [[]], remote: true });
  expect((await c.uidList(1)).map((e) => e.uid)).toEqual([1]);
  expect((await c.uidList(1, 5)).map((e) => e.uid)).toEqual([1]);
  expect(calls.uidList).toBe(2);
});

test("callers that come while a list is read wait for that read; one that needs more catches up after it", async () => {
  const { store, calls, lists, ctl } = stub();
  ctl.others = true;
  const c = new MailboxCache(store, 10);
  ctl.hold = true;
  const first = c.uidList(1); // sees [1]
  lists.set(1, [...lists.get(1)!, { uid: 2, modseq: 3, flags: [] }]); // another process appends
  const same = c.uidList(1); // no bound: the first read serves it
  const fresher = c.uidList(1, 3); // a SELECT after the append: needs modseq 3
  await Bun.sleep(0);
  expect(ctl.held.length).toBe(1); // one read at a time
  ctl.held.splice(0)[0]!();
  expect((await first).map((e) => e.uid)).toEqual([1]);
  expect((await same).map((e) => e.uid)).toEqual([1]);
  await Bun.sleep(0);
  ctl.held.splice(0)[0]!(); // the catch-up
  expect((await fresher).map((e) => e.uid)).toEqual([1, 2]);
  ctl.hold = false;
  expect((await c.uidList(1)).map((e) => e.uid)).toEqual([1, 2]);
  expect(calls.uidList).toBe(2);
});

test("a stale list is not kept (nor patched) while its fresh read runs", async () => {
  const { store, calls, lists, ctl } = stub();
  ctl.others = true;
  const c = new MailboxCache(store, 10);
  await c.uidList(1, 2);
  lists.set(1, [...lists.get(1)!, { uid: 2, modseq: 3, flags: [] }]);
  ctl.hold = true;
  const fresh = c.uidList(1, 3);
  // Our own change during the read: the read is not cached, and the stale list must not
  // survive it either (it lacks uid 2, which the fresh read shows).
  c.onChange({ ...ev("flags", [1]), modseq: 4, flags: [["\\Seen"]] });
  ctl.held.splice(0)[0]!();
  expect((await fresh).map((e) => e.uid)).toEqual([1, 2]);
  ctl.hold = false;
  lists.set(1, [
    { uid: 1, modseq: 4, flags: ["\\Seen"] },
    { uid: 2, modseq: 3, flags: [] },
  ]);
  expect((await c.uidList(1)).map((e) => e.uid)).toEqual([1, 2]);
  expect(calls.uidList).toBe(3);
});

test("a list behind is caught up from what changed since (not read whole)", async () => {
  const { store, lists, ctl } = stub();
  ctl.others = true;
  lists.set(1, [
    { uid: 1, modseq: 2, flags: [] },
    { uid: 2, modseq: 3, flags: [] },
    { uid: 3, modseq: 5, flags: [] },
  ]);
  const c = new MailboxCache(store, 10);
  await c.uidList(1, 5);
  // Elsewhere: uid 4 appended (6), uid 2 flagged (7), uid 3 expunged (8).
  lists.set(1, [
    { uid: 1, modseq: 2, flags: [] },
    { uid: 2, modseq: 7, flags: ["\\Flagged"] },
    { uid: 4, modseq: 6, flags: [] },
  ]);
  ctl.tombstones.push({ uid: 3, modseq: 8 });
  const since: (number | undefined)[] = [];
  const uidList = store.uidList.bind(store);
  store.uidList = (id: number, s?: number) => (since.push(s), uidList(id, s));
  expect(await c.uidList(1, 8)).toEqual(lists.get(1)!);
  expect(since).toEqual([5]);
  await c.uidList(1, 8);
  expect(since).toEqual([5]);
});

test("catchUp: changed rows replace or join in UID order, vanished ones go", () => {
  const e = (uid: number, modseq = 1) => ({ uid, modseq, flags: [] });
  // Our own uid 5 was patched in; another process's uid 4 (given first) comes now.
  expect(catchUp([e(1), e(3), e(5, 9)], [e(0, 7), e(3, 8), e(4, 6)], [1])).toEqual([e(0, 7), e(3, 8), e(4, 6), e(5, 9)]);
  expect(catchUp([e(1)], [], [])).toEqual([e(1)]);
  expect(catchUp([], [e(2)], [2])).toEqual([]);
});
