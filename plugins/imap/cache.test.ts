import { expect, test } from "bun:test";
import type { MessageMeta, Store, StoreChange } from "../../core/store/types.ts";
import { MailboxCache } from "./cache.ts";

/** A store stub counting the reads the cache lets through. */
function stub() {
  const calls = { uidList: 0, messages: 0 };
  const lists = new Map<number, { uid: number; modseq: number; flags: string[] }[]>([[1, [{ uid: 1, modseq: 2, flags: [] }]]]);
  const store = {
    async uidList(id: number) {
      calls.uidList++;
      return lists.get(id) ?? [];
    },
    async messages(_id: number, opts?: { uids?: number[] }) {
      calls.messages++;
      return (opts?.uids ?? []).map((uid) => ({ uid }) as MessageMeta);
    },
  } as unknown as Store;
  return { store, calls, lists };
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
