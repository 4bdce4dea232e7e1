import { test, expect } from "bun:test";
import { accountFixture, msg, type TestStore } from "./test-helpers.ts";
import type { Account, Mailbox } from "./types.ts";

let t: TestStore;
let a: Account;
let inbox: Mailbox;
let other: Mailbox;
accountFixture("u@a.test", (f) => void ({ t, a, inbox, other } = f));

/** Counts the write transactions the store asks for. */
function countWrites(): { n: number } {
  const c = { n: 0 };
  const write = t.db.write.bind(t.db);
  t.db.write = ((fn: Parameters<typeof write>[0]) => {
    c.n++;
    return write(fn);
  }) as typeof t.db.write;
  return c;
}

test("appendBatch: one write for the whole batch, UIDs in order, flags and dates kept", async () => {
  const writes = countWrites();
  const r = await t.store.appendBatch([
    { mailboxId: inbox.id, raw: msg("1"), flags: ["\\Seen", "$Label1"], internalDate: 1_000_000 },
    { mailboxId: inbox.id, raw: msg("2") },
    { mailboxId: other.id, raw: msg("3"), flags: ["\\Flagged"], internalDate: 2_000_000 },
  ]);
  expect(writes.n).toBe(1);
  expect(r.map((x) => [x.status, x.mailboxId, x.status === "added" ? x.uid : 0])).toEqual([
    ["added", inbox.id, 1],
    ["added", inbox.id, 2],
    ["added", other.id, 1],
  ]);
  const list = await t.store.messages(inbox.id);
  expect(list.map((m) => [m.uid, m.flags, m.internalDate, m.subject])).toEqual([
    [1, ["\\Seen", "$Label1"], 1_000_000, "1"],
    [2, [], list[1]!.internalDate, "2"],
  ]);
  expect((await t.store.getMailboxById(inbox.id))!.unseen).toBe(1);
  // One change event per mailbox, with every UID, its flags and the batch's last modseq.
  expect(t.events.filter((e) => e.kind === "append").map((e) => [e.mailboxId, e.uids, e.flags])).toEqual([
    [inbox.id, [1, 2], [["\\Seen", "$Label1"], []]],
    [other.id, [1], [["\\Flagged"]]],
  ]);
  // Each message has its own modseq; the mailboxes' highest modseq follows.
  const modseqs = [...list.map((m) => m.modseq), ...(await t.store.messages(other.id)).map((m) => m.modseq)];
  expect(new Set(modseqs).size).toBe(3);
  expect((await t.store.getMailboxById(inbox.id))!.highestModseq).toBe(Math.max(list[0]!.modseq, list[1]!.modseq));
});

test("appendBatch: the same bytes again in a mailbox are 'exists'; in another mailbox they share one blob", async () => {
  await t.store.appendBatch([{ mailboxId: inbox.id, raw: msg("same") }]);
  const r = await t.store.appendBatch([
    { mailboxId: inbox.id, raw: msg("same") },
    { mailboxId: other.id, raw: msg("same") },
    { mailboxId: other.id, raw: msg("same") },
  ]);
  expect(r.map((x) => x.status)).toEqual(["exists", "added", "exists"]);
  expect((await t.store.messages(inbox.id)).length).toBe(1);
  expect((await t.store.messages(other.id)).length).toBe(1);
  const blobs = await t.db.client.execute("SELECT count(*) AS n, max(refcount) AS rc FROM blobs");
  expect([Number(blobs.rows[0]!.n), Number(blobs.rows[0]!.rc)]).toEqual([1, 2]);
});

test("appendBatch: inTx commits with the rows, and a failure there rolls the rows back", async () => {
  const seen: string[] = [];
  await t.store.appendBatch([{ mailboxId: inbox.id, raw: msg("a") }], {
    inTx: async (_tx, results) => void seen.push(...results.map((x) => x.status)),
  });
  expect(seen).toEqual(["added"]);
  await expect(
    t.store.appendBatch([{ mailboxId: inbox.id, raw: msg("b") }], {
      inTx: async () => {
        throw new Error("bookkeeping failed");
      },
    }),
  ).rejects.toThrow("bookkeeping failed");
  expect((await t.store.messages(inbox.id)).map((m) => m.subject)).toEqual(["a"]);
});

test("appendBatch: an unknown mailbox fails the batch, nothing written", async () => {
  await expect(
    t.store.appendBatch([
      { mailboxId: inbox.id, raw: msg("x") },
      { mailboxId: 99999, raw: msg("y") },
    ]),
  ).rejects.toThrow();
  expect((await t.store.messages(inbox.id)).length).toBe(0);
  // The blobs written before the transaction have no row: GC's orphan sweep takes them.
  await t.store.gc({ orphanFileAgeMs: -1, graceMs: 0 });
});
