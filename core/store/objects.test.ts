import { test, expect } from "bun:test";
import { accountFixture, msg, type TestStore } from "./test-helpers.ts";
import { emailObjectId, mailboxObjectId, parseObjectId, threadObjectId } from "./ids.ts";
import type { Account, Mailbox } from "./types.ts";

let t: TestStore;
let a: Account;
let inbox: Mailbox;
let other: Mailbox;
accountFixture("u@a.test", (f) => void ({ t, a, inbox, other } = f));

test("ids: one letter per kind, base 36, strict parse", () => {
  expect(emailObjectId(35)).toBe("ez");
  expect(parseObjectId("e", "ez")).toBe(35);
  expect(parseObjectId("m", mailboxObjectId(7))).toBe(7);
  expect(parseObjectId("t", threadObjectId(1_000_000))).toBe(1_000_000);
  for (const bad of ["tz", "e", "e0", "e01", "eZ", "e-1", 5, null, "e" + "z".repeat(12)]) expect(parseObjectId("e", bad)).toBeNull();
});

test("email id survives MOVE (UIDs and COPYUID map as before); COPY makes a new id", async () => {
  const r = await t.store.append(inbox.id, msg("one"));
  expect(r.emailId).toBeGreaterThan(0);
  const mv = await t.store.move(inbox.id, [r.uid], other.id);
  expect(mv.map).toEqual([[1, 1]]);
  const [moved] = await t.store.messages(other.id);
  expect(moved!.emailId).toBe(r.emailId);
  expect(moved!.id).not.toBe(r.id); // a new row, the same email
  const cp = await t.store.copy(other.id, [1], inbox.id);
  expect(cp.map).toEqual([[1, 2]]);
  const [copied] = await t.store.messages(inbox.id);
  expect(copied!.emailId).not.toBe(r.emailId);
  expect(copied!.threadId).toBe(r.threadId);
  const again = await t.store.append(inbox.id, msg("two"));
  expect(new Set([r.emailId, copied!.emailId, again.emailId]).size).toBe(3);
  expect((await t.store.emailsById(a.id, [r.emailId])).map((m) => m.mailboxId)).toEqual([other.id]);
});

test("threads: a reply joins by References / In-Reply-To, others start their own", async () => {
  const root = await t.store.append(inbox.id, msg("root"));
  const reply = await t.store.append(other.id, msg("re", "x\r\n", "In-Reply-To: <root@x.test>\r\n"));
  const deep = await t.store.append(inbox.id, msg("deep", "x\r\n", "References: <nowhere@x> <re@x.test>\r\n"));
  const lone = await t.store.append(inbox.id, msg("lone"));
  expect(root.threadId).toBe(root.emailId);
  expect([reply.threadId, deep.threadId]).toEqual([root.threadId, root.threadId]);
  expect(lone.threadId).toBe(lone.emailId);
  const m = await t.store.threadEmails(a.id, [root.threadId, lone.threadId]);
  expect(m.get(root.threadId)).toEqual([root.emailId, reply.emailId, deep.emailId]);
  // another account never joins this account's thread
  const b = await t.store.createAccount("v@a.test", "pw");
  const binbox = (await t.store.getMailbox(b.id, "INBOX"))!;
  const foreign = await t.store.append(binbox.id, msg("f", "x\r\n", "In-Reply-To: <root@x.test>\r\n"));
  expect(foreign.threadId).toBe(foreign.emailId);
  expect(await t.store.emailsById(b.id, [root.emailId])).toEqual([]);
});

test("changes: created / updated / destroyed since a modseq; a move is an update", async () => {
  const e1 = await t.store.append(inbox.id, msg("1"));
  const e2 = await t.store.append(inbox.id, msg("2"));
  const s0 = await t.store.accountModseq(a.id);
  const e3 = await t.store.append(inbox.id, msg("3"));
  await t.store.setFlags(inbox.id, [1], "add", ["\\Seen"]);
  await t.store.move(inbox.id, [2], other.id);
  expect(await t.store.emailChanges(a.id, s0, 100)).toMatchObject({ created: [e3.emailId], updated: [e1.emailId, e2.emailId], destroyed: [] });
  const s1 = await t.store.accountModseq(a.id);
  await t.store.remove(inbox.id, [1]);
  expect(await t.store.emailChanges(a.id, s1, 100)).toMatchObject({ created: [], updated: [], destroyed: [e1.emailId], hasMoreChanges: false });
  // maxChanges cuts on a modseq boundary with an intermediate state
  const p = (await t.store.emailChanges(a.id, s0, 1))!;
  expect(p).toMatchObject({ created: [e3.emailId], hasMoreChanges: true });
  expect(p.newModseq).toBe(e3.modseq);
  expect(await t.store.emailChanges(a.id, s1 + 1000, 10)).toBeNull();
  // threads: e1's thread is gone, e3's is new
  expect(await t.store.threadChanges(a.id, s0, 100)).toMatchObject({ created: [e3.threadId], destroyed: [e1.threadId] });
});

test("mailbox changes: create, rename, message counts, delete (its emails destroyed)", async () => {
  const s0 = await t.store.accountModseq(a.id);
  const x = await t.store.createMailbox(a.id, "X");
  expect(await t.store.mailboxChanges(a.id, s0, 100)).toMatchObject({ created: [x.id], updated: [], destroyed: [] });
  const s1 = await t.store.accountModseq(a.id);
  expect(s1).toBeGreaterThan(s0);
  await t.store.renameMailbox(a.id, "X", "Y");
  const e = await t.store.append(inbox.id, msg("in"));
  expect((await t.store.mailboxChanges(a.id, s1, 100))!.updated.sort()).toEqual([inbox.id, x.id].sort());
  const s2 = await t.store.accountModseq(a.id);
  await t.store.move(inbox.id, [1], x.id);
  await t.store.deleteMailbox(a.id, "Y");
  expect(await t.store.mailboxChanges(a.id, s2, 100)).toMatchObject({ created: [], updated: [inbox.id], destroyed: [x.id] });
  expect(await t.store.emailChanges(a.id, s2, 100)).toMatchObject({ destroyed: [e.emailId] });
});

test("queryEmails: conditions in SQL and on the body, sorts, other accounts excluded", async () => {
  const e1 = await t.store.append(inbox.id, msg("apple pie", "crust and filling\r\n"), { internalDate: 1000 });
  const e2 = await t.store.append(inbox.id, msg("banana", "apple inside\r\n"), { internalDate: 2000, flags: ["\\Seen", "$Work"] });
  const e3 = await t.store.append(other.id, msg("cherry"), { internalDate: 3000 });
  const q = async (f: Parameters<typeof t.store.queryEmails>[1], asc = false) => (await t.store.queryEmails(a.id, f, [{ property: "receivedAt", isAscending: asc }])).map((x) => x.emailId);
  expect(await q(null)).toEqual([e3.emailId, e2.emailId, e1.emailId]);
  expect(await q({ inMailbox: inbox.id }, true)).toEqual([e1.emailId, e2.emailId]);
  expect(await q({ hasKeyword: "$seen" })).toEqual([e2.emailId]);
  expect(await q({ hasKeyword: "$work" })).toEqual([e2.emailId]);
  expect(await q({ notKeyword: "$seen", inMailboxOtherThan: [other.id] })).toEqual([e1.emailId]);
  expect(await q({ subject: "APPLE" })).toEqual([e1.emailId]);
  expect(await q({ body: "apple" })).toEqual([e2.emailId]);
  expect(await q({ text: "apple" })).toEqual([e2.emailId, e1.emailId]);
  expect(await q({ operator: "NOT", conditions: [{ text: "apple" }] })).toEqual([e3.emailId]);
  expect(await q({ operator: "OR", conditions: [{ before: 1500 }, { after: 3000 }] })).toEqual([e3.emailId, e1.emailId]);
  expect(await q({ hasAttachment: false, subject: "cherry" })).toEqual([e3.emailId]);
  const b = await t.store.createAccount("v@a.test", "pw");
  expect(await t.store.queryEmails(b.id, null, [])).toEqual([]);
});

test("change events mark mail delivery (appendInTx), not APPEND or MOVE", async () => {
  t.events.length = 0;
  await t.store.append(inbox.id, msg("appended"));
  const { blob, parsed } = await t.store.prepare(msg("delivered"), ["Return-Path: <a@x.test>\r\n"]);
  await t.db.write((tx) => t.store.appendInTx(tx, { accountId: a.id, mailbox: "INBOX" }, blob, ["Return-Path: <a@x.test>\r\n"], parsed));
  await t.store.move(inbox.id, [1], other.id);
  expect(t.events.filter((e) => e.kind === "append").map((e) => e.delivered ?? false)).toEqual([false, true, false]);
});
