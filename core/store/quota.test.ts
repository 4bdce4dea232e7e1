import { test, expect } from "bun:test";
import { accountFixture, msg, type TestStore } from "./test-helpers.ts";
import type { Account, Mailbox } from "./types.ts";

let t: TestStore;
let a: Account;
let inbox: Mailbox;
let other: Mailbox;
accountFixture("q@a.test", (f) => void ({ t, a, inbox, other } = f));

test("no quota: unlimited, usage summed over the mailboxes", async () => {
  await t.store.append(inbox.id, msg("one"));
  await t.store.append(other.id, msg("two"));
  const q = await t.store.getQuota(a.id);
  expect(q).toMatchObject({ storageKib: null, messages: null, usedMessages: 2 });
  expect(q.usedBytes).toBe((await t.store.getMailboxById(inbox.id))!.size + (await t.store.getMailboxById(other.id))!.size);
  expect(await t.store.atQuota(a.id)).toBe(false);
});

test("atQuota: true at (not only over) either limit, false below or without one", async () => {
  await t.store.append(inbox.id, msg("one"));
  await t.store.append(other.id, msg("two"));
  await t.store.setQuota(a.id, { storageKib: null, messages: 3 });
  expect(await t.store.atQuota(a.id)).toBe(false);
  await t.store.setQuota(a.id, { storageKib: null, messages: 2 });
  expect(await t.store.atQuota(a.id)).toBe(true);
  const used = (await t.store.getQuota(a.id)).usedBytes;
  await t.store.setQuota(a.id, { storageKib: Math.ceil(used / 1024) + 1, messages: null });
  expect(await t.store.atQuota(a.id)).toBe(false);
  await t.store.setQuota(a.id, { storageKib: 0, messages: null });
  expect(await t.store.atQuota(a.id)).toBe(true);
  await t.store.setQuota(a.id, { storageKib: null, messages: null });
  expect(await t.store.atQuota(a.id)).toBe(false);
});

test("append, appendMany and copy stop at the limit with OVERQUOTA, leaving nothing behind", async () => {
  await t.store.setQuota(a.id, { storageKib: null, messages: 2 });
  await t.store.append(inbox.id, msg("one"));
  await expect(t.store.appendMany(inbox.id, [{ raw: msg("two") }, { raw: msg("three") }])).rejects.toMatchObject({ code: "OVERQUOTA" });
  expect((await t.store.getQuota(a.id)).usedMessages).toBe(1);
  await t.store.append(inbox.id, msg("two"));
  await expect(t.store.append(inbox.id, msg("three"))).rejects.toMatchObject({ code: "OVERQUOTA" });
  await expect(t.store.copy(inbox.id, [1], other.id)).rejects.toMatchObject({ code: "OVERQUOTA" });
  // A move within the account changes no usage.
  expect((await t.store.move(inbox.id, [1], other.id)).map.length).toBe(1);
  await t.store.setQuota(a.id, { storageKib: 1, messages: null });
  await expect(t.store.append(inbox.id, msg("x".repeat(2000)))).rejects.toMatchObject({ code: "OVERQUOTA" });
  await expect(t.store.setQuota(a.id, { storageKib: -1, messages: null })).rejects.toMatchObject({ code: "INVALID" });
  await expect(t.store.setQuota(9999, { storageKib: 1, messages: null })).rejects.toMatchObject({ code: "NONEXISTENT" });
});
