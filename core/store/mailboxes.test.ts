import { test, expect } from "bun:test";
import { storeFixture, msg, type TestStore } from "./test-helpers.ts";
import type { Account } from "./types.ts";

let t: TestStore;
let a: Account;
storeFixture(async (f) => {
  t = f;
  a = await t.store.createAccount("u@a.test", "pw");
  t.events.length = 0;
});
const names = async () => (await t.store.listMailboxes(a.id)).map((m) => m.name);

test("create: superiors are created, duplicates and bad names refused, INBOX any case", async () => {
  const c = await t.store.createMailbox(a.id, "Work/Projects/2026");
  expect(c.name).toBe("Work/Projects/2026");
  expect(await names()).toContain("Work");
  expect(await names()).toContain("Work/Projects");
  await expect(t.store.createMailbox(a.id, "Work")).rejects.toMatchObject({ code: "ALREADYEXISTS" });
  await expect(t.store.createMailbox(a.id, "inbox")).rejects.toMatchObject({ code: "ALREADYEXISTS" });
  for (const bad of ["", "a//b", "/a", "a/", "x\u0000y", "tab\there"]) {
    await expect(t.store.createMailbox(a.id, bad)).rejects.toMatchObject({ code: "INVALID" });
  }
  await expect(t.store.createMailbox(a.id, "x", "\\Bogus")).rejects.toMatchObject({ code: "INVALID" });
  expect((await t.store.getMailbox(a.id, "iNbOx"))!.name).toBe("INBOX");
  const child = await t.store.createMailbox(a.id, "inbox/Sub");
  expect(child.name).toBe("INBOX/Sub");
  expect((await t.store.getMailbox(a.id, "Inbox/Sub"))!.id).toBe(child.id);
  // case matters elsewhere
  expect(await t.store.getMailbox(a.id, "work")).toBeNull();
  const mbEvents = t.events.filter((e) => e.kind === "mailbox");
  expect(mbEvents.length).toBe(4);
});

test("delete: INBOX refused, children refused, nonexistent, messages dropped", async () => {
  await expect(t.store.deleteMailbox(a.id, "INBOX")).rejects.toMatchObject({ code: "CANNOT" });
  await t.store.createMailbox(a.id, "P/C");
  await expect(t.store.deleteMailbox(a.id, "P")).rejects.toMatchObject({ code: "HASCHILDREN" });
  await expect(t.store.deleteMailbox(a.id, "nope")).rejects.toMatchObject({ code: "NONEXISTENT" });
  const c = (await t.store.getMailbox(a.id, "P/C"))!;
  await t.store.append(c.id, msg("m1"));
  await t.store.expunge(c.id); // nothing flagged: nothing expunged
  await t.store.setFlags(c.id, [1], "add", ["\\Deleted"]);
  await t.store.append(c.id, msg("m2"));
  await t.store.expunge(c.id);
  await t.store.deleteMailbox(a.id, "P/C");
  await t.store.deleteMailbox(a.id, "P");
  expect(await names()).not.toContain("P");
  const tomb = await t.db.client.execute("SELECT count(*) FROM tombstones");
  expect(Number(tomb.rows[0]![0])).toBe(0);
  const refs = await t.db.client.execute("SELECT sum(refcount) FROM blobs");
  expect(Number(refs.rows[0]![0])).toBe(0);
});

test("uidvalidity is never reused after delete + re-create or rename + re-create", async () => {
  const seen = new Set((await t.store.listMailboxes(a.id)).map((m) => m.uidvalidity));
  const x1 = await t.store.createMailbox(a.id, "X");
  expect(seen.has(x1.uidvalidity)).toBe(false);
  seen.add(x1.uidvalidity);
  await t.store.deleteMailbox(a.id, "X");
  const x2 = await t.store.createMailbox(a.id, "X");
  expect(seen.has(x2.uidvalidity)).toBe(false);
  seen.add(x2.uidvalidity);
  await t.store.renameMailbox(a.id, "X", "Y");
  const x3 = await t.store.createMailbox(a.id, "X");
  expect(seen.has(x3.uidvalidity)).toBe(false);
  expect(x3.uidvalidity).toBeGreaterThan(x2.uidvalidity);
});

test("rename moves inferiors, creates superiors, keeps messages and uidvalidity", async () => {
  const p = await t.store.createMailbox(a.id, "Old");
  await t.store.createMailbox(a.id, "Old/Kid/Grandkid");
  await t.store.createMailbox(a.id, "Older"); // shares a prefix but is not an inferior
  await t.store.append(p.id, msg("keep me"));
  t.events.length = 0;
  await t.store.renameMailbox(a.id, "Old", "New/Place");
  const n = await names();
  expect(n).toContain("New");
  expect(n).toContain("New/Place");
  expect(n).toContain("New/Place/Kid");
  expect(n).toContain("New/Place/Kid/Grandkid");
  expect(n).toContain("Older");
  expect(n.some((x) => x === "Old" || x.startsWith("Old/"))).toBe(false);
  const moved = (await t.store.getMailbox(a.id, "New/Place"))!;
  expect(moved.id).toBe(p.id);
  expect(moved.uidvalidity).toBe(p.uidvalidity);
  expect((await t.store.messages(moved.id)).map((m) => m.subject)).toEqual(["keep me"]);
  // "New" created + 3 mailboxes renamed (Old, Old/Kid, Old/Kid/Grandkid)
  expect(t.events.filter((e) => e.kind === "mailbox").length).toBe(4);
});

test("rename errors: nonexistent source, existing target, into own inferior, to INBOX", async () => {
  await t.store.createMailbox(a.id, "A");
  await t.store.createMailbox(a.id, "B");
  await expect(t.store.renameMailbox(a.id, "Z", "Q")).rejects.toMatchObject({ code: "NONEXISTENT" });
  await expect(t.store.renameMailbox(a.id, "A", "B")).rejects.toMatchObject({ code: "ALREADYEXISTS" });
  await expect(t.store.renameMailbox(a.id, "A", "A/sub")).rejects.toMatchObject({ code: "CANNOT" });
  await expect(t.store.renameMailbox(a.id, "A", "inbox")).rejects.toMatchObject({ code: "ALREADYEXISTS" });
  await expect(t.store.renameMailbox(a.id, "A", "a//b")).rejects.toMatchObject({ code: "INVALID" });
});

test("renaming INBOX moves its messages and leaves a fresh empty INBOX; its inferiors stay", async () => {
  const inbox = (await t.store.getMailbox(a.id, "INBOX"))!;
  await t.store.createMailbox(a.id, "INBOX/Child");
  await t.store.append(inbox.id, msg("one"));
  await t.store.append(inbox.id, msg("two"));
  await t.store.renameMailbox(a.id, "INBOX", "Old Inbox");
  const old = (await t.store.getMailbox(a.id, "Old Inbox"))!;
  expect(old.messages).toBe(2);
  expect((await t.store.messages(old.id)).map((m) => m.uid)).toEqual([1, 2]);
  const fresh = (await t.store.getMailbox(a.id, "INBOX"))!;
  expect(fresh.messages).toBe(0);
  expect(fresh.uidvalidity).not.toBe(inbox.uidvalidity);
  expect(fresh.uidnext).toBe(1);
  expect(await names()).toContain("INBOX/Child");
});

test("subscriptions", async () => {
  await t.store.createMailbox(a.id, "S");
  await t.store.setSubscribed(a.id, "S", false);
  expect((await t.store.getMailbox(a.id, "S"))!.subscribed).toBe(false);
  await t.store.setSubscribed(a.id, "S", true);
  expect((await t.store.getMailbox(a.id, "S"))!.subscribed).toBe(true);
  await expect(t.store.setSubscribed(a.id, "nope", true)).rejects.toMatchObject({ code: "NONEXISTENT" });
});

test("the number of mailboxes per account is bounded", async () => {
  // fill up to the limit cheaply, then CREATE is refused
  const { MAX_MAILBOXES } = await import("./mailboxes.ts");
  const have = (await t.store.listMailboxes(a.id)).length;
  await t.db.write(async (tx) => {
    for (let i = have; i < MAX_MAILBOXES; i++) {
      await tx.execute({ sql: "INSERT INTO mailboxes(account_id, name, uidvalidity) VALUES (?, ?, ?)", args: [a.id, `bulk${i}`, 4_000_000_000 + i] });
    }
  });
  await expect(t.store.createMailbox(a.id, "one-too-many")).rejects.toMatchObject({ code: "CANNOT" });
});
