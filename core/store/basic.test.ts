import { test, expect } from "bun:test";
import { storeFixture, msg, type TestStore } from "./test-helpers.ts";

let t: TestStore;
storeFixture((f) => void (t = f));

test("createAccount makes the default mailboxes with special-use", async () => {
  const a = await t.store.createAccount("User@Example.TEST", "pw");
  expect(a.address).toBe("user@example.test");
  const mbs = await t.store.listMailboxes(a.id);
  expect(mbs.map((m) => [m.name, m.specialUse])).toEqual([
    ["INBOX", null],
    ["Archive", "\\Archive"],
    ["Drafts", "\\Drafts"],
    ["Junk", "\\Junk"],
    ["Sent", "\\Sent"],
    ["Trash", "\\Trash"],
  ]);
  expect(new Set(mbs.map((m) => m.uidvalidity)).size).toBe(6);
  expect(await t.store.isLocalDomain("EXAMPLE.test")).toBe(true);
});

test("append, messages, read", async () => {
  const a = await t.store.createAccount("u@example.test", "pw");
  const inbox = (await t.store.getMailbox(a.id, "inbox"))!;
  // Creating the default mailboxes took modseqs: the append takes the next one.
  const m0 = await t.store.accountModseq(a.id);
  const r = await t.store.append(inbox.id, msg("one"), { flags: ["\\Seen", "$Label"], prefix: ["Received: by test\r\n"] });
  expect(r.uid).toBe(1);
  expect(r.modseq).toBe(m0 + 1);
  const [m] = await t.store.messages(inbox.id);
  expect(m!.flags).toEqual(["\\Seen", "$Label"]);
  expect(m!.subject).toBe("one");
  const bytes = await t.store.read(m!);
  expect(new TextDecoder().decode(bytes).startsWith("Received: by test\r\nFrom: a@x.test")).toBe(true);
  expect(m!.size).toBe(bytes.length);
  expect(m!.prefixSize).toBe(19);
  const mb = (await t.store.getMailboxById(inbox.id))!;
  expect([mb.uidnext, mb.messages, mb.unseen, mb.highestModseq, mb.size]).toEqual([2, 1, 0, m0 + 1, bytes.length]);
  expect(t.events.filter((e) => e.kind === "append")).toEqual([{ accountId: a.id, mailboxId: inbox.id, kind: "append", uids: [1], modseq: m0 + 1, origin: undefined, flags: [["\\Seen", "$Label"]] }]);
});
