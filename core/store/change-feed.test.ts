// The change feed: a second store on the same database (as a second instance would be)
// sees the first one's appends, flag changes, expunges and mailbox changes as `remote`
// events, and never echoes its own writes.
import { afterEach, expect, test } from "bun:test";
import { join } from "node:path";
import { openDb } from "../db/open.ts";
import type { BlobBackend } from "./blobs.ts";
import { startChangeFeed } from "./change-feed.ts";
import { emitAfterCommit, nextModseq, type StoreCtx } from "./ctx.ts";
import { createStore, type StoreImpl } from "./index.ts";
import { makeStore, msg, silentLog, type TestStore } from "./test-helpers.ts";
import type { StoreChange } from "./types.ts";

let t: TestStore;
let other: StoreImpl | null = null;
afterEach(async () => {
  await other?.close();
  other = null;
  await t.cleanup();
});

test("another store's changes arrive as remote events, own writes are not echoed", async () => {
  t = await makeStore();
  const db2 = await openDb({ url: `file:${join(t.dir, "k.db")}` });
  other = await createStore({ db: db2, blobDir: t.blobDir, log: silentLog, gc: { intervalMs: 0 } });
  const seen: StoreChange[] = [];
  other.onChange((e) => seen.push(e));
  const feed = other.followOthers(60_000);
  await feed.poll();
  const acct = await t.store.createAccount("feed@example.test", "pw");
  await feed.poll(); // a new account: seen from its start (its mailboxes created)
  expect(seen.filter((e) => e.accountId === acct.id && e.kind === "mailbox" && e.remote).length).toBeGreaterThan(0);
  seen.length = 0;
  const inbox = (await t.store.getMailbox(acct.id, "INBOX"))!;
  const a1 = await t.store.append(inbox.id, msg("one"));
  const a2 = await t.store.append(inbox.id, msg("two"), { flags: ["\\Seen"] });
  await t.store.setFlags(inbox.id, [a1.uid], "add", ["\\Flagged"]);
  await t.store.remove(inbox.id, [a2.uid]);
  const box = await t.store.createMailbox(acct.id, "Projects");
  await feed.poll();
  const ours = seen.filter((e) => e.accountId === acct.id).map(({ kind, mailboxId, uids, flags, remote }) => ({ kind, mailboxId, uids, flags, remote }));
  expect(ours).toEqual([
    // a1 was appended and then flagged before the poll: one event at its last modseq
    { kind: "append", mailboxId: inbox.id, uids: [a1.uid], flags: [["\\Flagged"]], remote: true },
    { kind: "expunge", mailboxId: inbox.id, uids: [a2.uid], flags: undefined, remote: true },
    { kind: "mailbox", mailboxId: box.id, uids: [], flags: undefined, remote: true },
  ]);
  // modseqs ascend, as commits did
  const mods = seen.filter((e) => e.accountId === acct.id).map((e) => e.modseq);
  expect(mods).toEqual([...mods].sort((x, y) => x - y));

  // a flag change alone is "flags"; the other store's own write is not echoed back to it
  const a3 = await other.append(inbox.id, msg("three"));
  seen.length = 0;
  await t.store.setFlags(inbox.id, [a1.uid], "add", ["\\Seen"]);
  await other.setFlags(inbox.id, [a3.uid], "add", ["$Label1"]);
  await feed.poll();
  const kinds = seen.map((e) => `${e.kind}:${e.remote ?? false}`);
  expect(kinds).toEqual(["flags:false", "flags:true"]);
  expect(seen[1]!.flags).toEqual([["\\Flagged", "\\Seen"]]);
  await db2.close();
});

test("an account disabled or deleted through another store ends its sessions here too (AccountGone)", async () => {
  t = await makeStore();
  const db2 = await openDb({ url: `file:${join(t.dir, "k.db")}` });
  other = await createStore({ db: db2, blobDir: t.blobDir, log: silentLog, gc: { intervalMs: 0 } });
  const gone: { address: string; reason: string }[] = [];
  other.onAccountGone((e) => gone.push({ address: e.address, reason: e.reason }));
  await t.store.createAccount("off@example.test", "pw");
  await t.store.createAccount("bye@example.test", "pw");
  const feed = other.followOthers(60_000);
  await feed.poll();
  expect(gone).toEqual([]);
  await t.store.setDisabled("off@example.test", true);
  await t.store.deleteAccount("bye@example.test");
  await feed.poll();
  expect(gone).toEqual([
    { address: "off@example.test", reason: "disabled" },
    { address: "bye@example.test", reason: "deleted" },
  ]);
  await feed.poll(); // told once
  expect(gone).toHaveLength(2);
  await db2.close();
});

test("a store following other writers does not cache the domains: one added elsewhere is local at once", async () => {
  t = await makeStore();
  const db2 = await openDb({ url: `file:${join(t.dir, "k.db")}` });
  other = await createStore({ db: db2, blobDir: t.blobDir, log: silentLog, gc: { intervalMs: 0 } });
  other.followOthers(60_000);
  expect(await other.isLocalDomain("elsewhere.test")).toBe(false);
  await t.store.addDomain("elsewhere.test");
  expect(await other.isLocalDomain("elsewhere.test")).toBe(true);
  expect((await other.listDomains()).map((d) => d.name)).toContain("elsewhere.test");
  await t.store.deleteDomain("elsewhere.test");
  expect(await other.isLocalDomain("elsewhere.test")).toBe(false);
});

test("a store told others write (listen.processes > 1, cluster.changePollMs = 0) does not cache the domains either", async () => {
  t = await makeStore();
  const db2 = await openDb({ url: `file:${join(t.dir, "k.db")}` });
  other = await createStore({ db: db2, blobDir: t.blobDir, log: silentLog, gc: { intervalMs: 0 }, othersWrite: true });
  expect(other.othersWrite()).toBe(true);
  expect(t.store.othersWrite()).toBe(false);
  expect(await other.isLocalDomain("elsewhere.test")).toBe(false);
  await t.store.addDomain("elsewhere.test");
  expect(await other.isLocalDomain("elsewhere.test")).toBe(true);
  await db2.close();
});

test("a rolled-back write's modseq, given again to another store's write, is not taken for our own", async () => {
  t = await makeStore();
  const acct = await t.store.createAccount("again@example.test", "pw");
  const inbox = (await t.store.getMailbox(acct.id, "INBOX"))!;
  // The follower's own context (the store's is internal): its write queues an event, so
  // its modseq is noted as ours, and then rolls back.
  const db2 = await openDb({ url: `file:${join(t.dir, "k.db")}` });
  const seen: StoreChange[] = [];
  const ctx: StoreCtx = { db: db2, blobs: {} as BlobBackend, log: silentLog, pins: new Map(), listeners: new Set([(e) => seen.push(e)]), accountListeners: new Set() };
  const feed = startChangeFeed(ctx, 60_000);
  await feed.poll();
  let taken = 0;
  await expect(
    db2.write(async (tx) => {
      taken = await nextModseq(tx, acct.id);
      emitAfterCommit(ctx, tx, { accountId: acct.id, mailboxId: inbox.id, kind: "flags", uids: [], modseq: taken });
      throw new Error("rolled back");
    }),
  ).rejects.toThrow("rolled back");
  // The other store's append takes the same modseq: the follower must still hear of it.
  await t.store.append(inbox.id, msg("same modseq"));
  expect((await t.store.getMailbox(acct.id, "INBOX"))!.highestModseq).toBe(taken);
  await feed.poll();
  expect(seen.map((e) => `${e.kind}:${e.modseq}:${e.remote}`)).toEqual([`append:${taken}:true`]);
  feed.stop();
  await db2.close();
});
