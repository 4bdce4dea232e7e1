import { test, expect } from "bun:test";
import { accountFixture, msg, type TestStore } from "./test-helpers.ts";
import type { Account, Mailbox } from "./types.ts";

let t: TestStore;
let a: Account;
let inbox: Mailbox;
let other: Mailbox;
/** The account's modseq after set-up (creating mailboxes takes modseqs too). */
let m0: number;
accountFixture("u@a.test", async (f) => {
  ({ t, a, inbox, other } = f);
  m0 = await accountModseq();
});

async function accountModseq(): Promise<number> {
  const r = await t.db.client.execute({ sql: "SELECT modseq FROM accounts WHERE id = ?", args: [a.id] });
  return Number(r.rows[0]!.modseq);
}
const mb = async (id: number) => (await t.store.getMailboxById(id))!;

test("append: UIDs increase, modseq per account increases, counters follow", async () => {
  const r1 = await t.store.append(inbox.id, msg("1"));
  const r2 = await t.store.append(other.id, msg("2"));
  const r3 = await t.store.append(inbox.id, msg("3"), { flags: ["\\seen"], internalDate: 1_000_000 });
  expect([r1.uid, r2.uid, r3.uid]).toEqual([1, 1, 2]);
  expect([r1.modseq, r2.modseq, r3.modseq]).toEqual([m0 + 1, m0 + 2, m0 + 3]);
  expect(r1.uidvalidity).toBe(inbox.uidvalidity);
  expect(await accountModseq()).toBe(m0 + 3);
  const m = await mb(inbox.id);
  expect([m.uidnext, m.messages, m.unseen, m.highestModseq]).toEqual([3, 2, 1, m0 + 3]);
  const list = await t.store.messages(inbox.id);
  expect(list.map((x) => [x.uid, x.modseq, x.flags])).toEqual([
    [1, m0 + 1, []],
    [2, m0 + 3, ["\\Seen"]],
  ]);
  expect(list[1]!.internalDate).toBe(1_000_000);
  expect(await t.store.uidList(inbox.id)).toEqual([
    { uid: 1, modseq: m0 + 1, flags: [] },
    { uid: 2, modseq: m0 + 3, flags: ["\\Seen"] },
  ]);
  expect((await t.store.messages(inbox.id, { uids: [2, 99] })).map((x) => x.uid)).toEqual([2]);
  expect((await t.store.messages(inbox.id, { changedSince: m0 + 1 })).map((x) => x.uid)).toEqual([2]);
  expect(await t.store.uidList(inbox.id, m0 + 1)).toEqual([{ uid: 2, modseq: m0 + 3, flags: ["\\Seen"] }]);
  await expect(t.store.append(99999, msg("x"))).rejects.toMatchObject({ code: "NONEXISTENT" });
});

test("parsed once: envelope, structure and search fields are stored", async () => {
  const raw = new TextEncoder().encode(
    "From: =?utf-8?q?J=C3=BCrgen?= <j@x.test>\r\nTo: u@a.test\r\nSubject: =?utf-8?q?Gr=C3=BC=C3=9Fe?=\r\nDate: Tue, 1 Jul 2003 10:52:37 +0200\r\nMessage-ID: <p1@x.test>\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\nbody text\r\n--b\r\nContent-Type: application/pdf\r\n\r\nJVBERi0=\r\n--b--\r\n",
  );
  await t.store.append(inbox.id, raw, { prefix: ["X-Added: 1\r\n"] });
  const [m] = await t.store.messages(inbox.id);
  expect(m!.subject).toBe("Grüße");
  expect(m!.from).toBe("Jürgen <j@x.test>");
  expect(m!.messageId).toBe("<p1@x.test>");
  expect(m!.sentDate).toBe(Date.UTC(2003, 6, 1, 8, 52, 37));
  expect(m!.preview).toBe("body text");
  expect(m!.envelope.subject).toBe("=?utf-8?q?Gr=C3=BC=C3=9Fe?=");
  expect(m!.structure.parts!.length).toBe(2);
  // offsets are into prefix + raw
  const full = await t.store.read(m!);
  const p1 = m!.structure.parts![0]!;
  expect(new TextDecoder().decode(full.subarray(p1.bodyStart, p1.end))).toBe("body text");
  expect(m!.structure.headerStart).toBe(0);
});

test("200 concurrent appends: distinct UIDs 1..200, distinct modseqs, counts right", async () => {
  const results = await Promise.all(Array.from({ length: 200 }, (_, i) => t.store.append(i % 2 ? inbox.id : other.id, msg(`c${i}`, `body ${i}\r\n`))));
  const inboxUids = results.filter((_, i) => i % 2).map((r) => r.uid);
  const otherUids = results.filter((_, i) => i % 2 === 0).map((r) => r.uid);
  expect(new Set(inboxUids).size).toBe(100);
  expect(new Set(otherUids).size).toBe(100);
  expect(Math.max(...inboxUids)).toBe(100);
  expect(new Set(results.map((r) => r.modseq)).size).toBe(200);
  expect((await mb(inbox.id)).messages).toBe(100);
  expect((await mb(other.id)).uidnext).toBe(101);
  expect(await accountModseq()).toBe(m0 + 200);
  expect(t.events.filter((e) => e.kind === "append").length).toBe(200);
});

test("the same content appended twice shares one blob with refcount 2", async () => {
  await t.store.append(inbox.id, msg("same"));
  await t.store.append(other.id, msg("same"));
  const r = await t.db.client.execute("SELECT refcount FROM blobs");
  expect(r.rows.map((x) => Number(x.refcount))).toEqual([2]);
});

test("flags: add/remove/set, keywords, unseen counter, modseq only for real changes", async () => {
  for (let i = 0; i < 3; i++) await t.store.append(inbox.id, msg(`f${i}`));
  t.events.length = 0;
  const r1 = await t.store.setFlags(inbox.id, [1, 2], "add", ["\\Seen", "$Important"], { origin: "s1" });
  expect(r1.changed.map((c) => [c.uid, c.flags])).toEqual([
    [1, ["\\Seen", "$Important"]],
    [2, ["\\Seen", "$Important"]],
  ]);
  const m1 = r1.changed[0]!.modseq;
  expect(m1).toBe(m0 + 4);
  expect((await mb(inbox.id)).unseen).toBe(1);
  // no-op change: no new modseq, no event
  const r2 = await t.store.setFlags(inbox.id, [1], "add", ["\\seen"]);
  expect(r2.changed).toEqual([]);
  expect(await accountModseq()).toBe(m1);
  const r3 = await t.store.setFlags(inbox.id, [1, 2, 3], "set", ["\\Flagged", "$x"]);
  expect(r3.changed.length).toBe(3);
  expect((await mb(inbox.id)).unseen).toBe(3);
  const r4 = await t.store.setFlags(inbox.id, [3], "remove", ["$X", "\\Flagged"]);
  expect(r4.changed[0]!.flags).toEqual([]);
  // unknown system flags and \Recent are ignored
  const r5 = await t.store.setFlags(inbox.id, [3], "add", ["\\Recent", "\\Bogus"]);
  expect(r5.changed).toEqual([]);
  expect(t.events.map((e) => [e.kind, e.uids, e.origin])).toEqual([
    ["flags", [1, 2], "s1"],
    ["flags", [1, 2, 3], undefined],
    ["flags", [3], undefined],
  ]);
  expect((await mb(inbox.id)).highestModseq).toBe(await accountModseq());
});

test("CONDSTORE: UNCHANGEDSINCE fails messages modified later, updates the rest", async () => {
  await t.store.append(inbox.id, msg("a")); // modseq m0 + 1
  await t.store.append(inbox.id, msg("b")); // modseq m0 + 2
  await t.store.setFlags(inbox.id, [2], "add", ["\\Answered"]); // uid 2 → modseq m0 + 3
  const r = await t.store.setFlags(inbox.id, [1, 2], "add", ["\\Flagged"], { unchangedSince: m0 + 2 });
  expect(r.failed).toEqual([2]);
  expect(r.changed.map((c) => c.uid)).toEqual([1]);
  expect(r.changed[0]!.modseq).toBe(m0 + 4);
  const r2 = await t.store.setFlags(inbox.id, [1], "add", ["\\Flagged"], { unchangedSince: 0 });
  expect(r2.failed).toEqual([1]);
  expect((await t.store.messages(inbox.id, { changedSince: m0 + 3 })).map((m) => m.uid)).toEqual([1]);
});

test("copy keeps flags and internal date, returns the UID map, fires one event", async () => {
  await t.store.append(inbox.id, msg("a"), { flags: ["\\Seen", "k1"], internalDate: 123 });
  await t.store.append(inbox.id, msg("b"));
  await t.store.append(inbox.id, msg("c"), { flags: ["\\Deleted"] });
  await t.store.append(other.id, msg("pre-existing"));
  t.events.length = 0;
  const r = await t.store.copy(inbox.id, [1, 3, 42], other.id, { origin: "s" });
  expect(r.uidvalidity).toBe(other.uidvalidity);
  expect(r.map).toEqual([
    [1, 2],
    [3, 3],
  ]);
  const copied = await t.store.messages(other.id, { uids: [2, 3] });
  expect(copied.map((m) => [m.flags, m.internalDate === 123, m.subject])).toEqual([
    [["\\Seen", "k1"], true, "a"],
    [["\\Deleted"], false, "c"],
  ]);
  expect(copied[0]!.modseq).toBe(copied[1]!.modseq);
  expect(t.events).toEqual([{ accountId: a.id, mailboxId: other.id, kind: "append", uids: [2, 3], modseq: copied[0]!.modseq, origin: "s" }]);
  const o = await mb(other.id);
  expect([o.messages, o.unseen, o.uidnext]).toEqual([3, 2, 4]);
  // source untouched
  expect((await mb(inbox.id)).messages).toBe(3);
  // empty copy is a no-op
  expect((await t.store.copy(inbox.id, [77], other.id)).map).toEqual([]);
  // the copied message reads back identically
  expect(await t.store.read(copied[0]!)).toEqual(await t.store.read((await t.store.messages(inbox.id, { uids: [1] }))[0]!));
});

test("move = new UIDs in target + tombstones in source (VANISHED), one modseq", async () => {
  for (let i = 0; i < 4; i++) await t.store.append(inbox.id, msg(`m${i}`));
  const before = (await mb(inbox.id)).highestModseq;
  t.events.length = 0;
  const r = await t.store.move(inbox.id, [2, 4], other.id);
  expect(r.map).toEqual([
    [2, 1],
    [4, 2],
  ]);
  expect((await t.store.messages(inbox.id)).map((m) => m.uid)).toEqual([1, 3]);
  expect((await t.store.messages(other.id)).map((m) => m.subject)).toEqual(["m1", "m3"]);
  expect(await t.store.vanished(inbox.id, before)).toEqual([2, 4]);
  expect(await t.store.vanished(inbox.id, before + 1)).toEqual([]);
  expect(t.events.map((e) => [e.kind, e.mailboxId, e.uids])).toEqual([
    ["append", other.id, [1, 2]],
    ["expunge", inbox.id, [2, 4]],
  ]);
  expect(t.events[0]!.modseq).toBe(t.events[1]!.modseq);
  expect((await mb(inbox.id)).uidnext).toBe(5); // UIDs are never reused
  // Into the same mailbox: a new UID, the old one gone, the counts unchanged.
  const same = await t.store.move(inbox.id, [1], inbox.id);
  expect(same.map).toEqual([[1, 5]]);
  expect((await t.store.messages(inbox.id)).map((m) => m.uid)).toEqual([3, 5]);
  expect((await mb(inbox.id)).messages).toBe(2);
  expect(await t.store.check()).toEqual([]);
});

test("expunge only \\Deleted (optionally restricted to UIDs); remove ignores flags; tombstones", async () => {
  for (let i = 0; i < 5; i++) await t.store.append(inbox.id, msg(`e${i}`), { flags: i % 2 ? [] : ["\\Deleted"] });
  const ms = (await mb(inbox.id)).highestModseq;
  expect(await t.store.expunge(inbox.id, [1, 2])).toEqual([1]);
  expect(await t.store.expunge(inbox.id)).toEqual([3, 5]);
  expect(await t.store.expunge(inbox.id)).toEqual([]);
  expect(await t.store.remove(inbox.id, [2, 9])).toEqual([2]);
  expect(await t.store.vanished(inbox.id, ms)).toEqual([1, 2, 3, 5]);
  expect(await t.store.vanished(inbox.id, 0)).toEqual([1, 2, 3, 5]);
  const m = await mb(inbox.id);
  expect([m.messages, m.uidnext]).toEqual([1, 6]);
  expect(t.events.filter((e) => e.kind === "expunge").map((e) => e.uids)).toEqual([[1], [3, 5], [2]]);
  // a new append after expunge gets a fresh UID
  expect((await t.store.append(inbox.id, msg("new"))).uid).toBe(6);
  // expunged message cannot be read any more
  await expect(t.store.read({ id: 1, blobId: "0".repeat(64) })).rejects.toMatchObject({ code: "NONEXISTENT" });
});

test("prepare + appendInTx inside a shared transaction (the spool's path)", async () => {
  const { blob, parsed } = await t.store.prepare(msg("spooled"), ["Received: x\r\n"]);
  expect(parsed.prefixSize).toBe(13);
  const r = await t.db.write(async (tx) => {
    const x = await t.store.appendInTx(tx, { accountId: a.id, mailbox: "Other" }, blob, ["Received: x\r\n"], parsed, { internalDate: 5 });
    const y = await t.store.appendInTx(tx, { accountId: a.id, mailbox: "Missing", flags: ["\\Flagged"] }, blob, ["Received: x\r\n"], parsed);
    return [x, y];
  });
  expect(r).toEqual([
    { uid: 1, mailboxId: other.id },
    { uid: 1, mailboxId: inbox.id }, // unknown mailbox falls back to INBOX
  ]);
  const [m] = await t.store.messages(inbox.id);
  expect(m!.flags).toEqual(["\\Flagged"]);
  expect(new TextDecoder().decode(await t.store.read(m!))).toStartWith("Received: x\r\nFrom:");
  expect(t.events.filter((e) => e.kind === "append").length).toBe(2);
});

test("a failing write in the same group rolls back only itself; its events never fire", async () => {
  const { blob, parsed } = await t.store.prepare(msg("g"));
  const ok = t.db.write((tx) => t.store.appendInTx(tx, { accountId: a.id, mailbox: "INBOX" }, blob, [], parsed));
  const bad = t.db.write(async (tx) => {
    await t.store.appendInTx(tx, { accountId: a.id, mailbox: "INBOX" }, blob, [], parsed);
    throw new Error("boom");
  });
  const ok2 = t.db.write((tx) => t.store.appendInTx(tx, { accountId: a.id, mailbox: "INBOX" }, blob, [], parsed));
  const [r1, r2, r3] = await Promise.allSettled([ok, bad, ok2]);
  expect(r1).toEqual({ status: "fulfilled", value: { uid: 1, mailboxId: inbox.id } });
  expect(r2.status).toBe("rejected");
  expect(r3).toEqual({ status: "fulfilled", value: { uid: 2, mailboxId: inbox.id } });
  expect((await mb(inbox.id)).messages).toBe(2);
  expect(t.events.filter((e) => e.kind === "append").map((e) => e.uids)).toEqual([[1], [2]]);
});

test("append and flags events carry the new flags (caches update without a read)", async () => {
  await t.store.append(inbox.id, msg("e1"), { flags: ["$b", "\\Seen", "$a"] });
  await t.store.setFlags(inbox.id, [1], "remove", ["\\Seen"]);
  expect(t.events.map((e) => [e.kind, e.uids, e.flags])).toEqual([
    ["append", [1], [["\\Seen", "$a", "$b"]]],
    ["flags", [1], [["$a", "$b"]]],
  ]);
  const list = await t.store.uidList(inbox.id);
  expect(list[0]!.flags).toEqual(t.events[1]!.flags![0]!);
});

test("flags events say what each message gained: a re-set \\Seen is not new", async () => {
  await t.store.append(inbox.id, msg("g1"), { flags: ["\\Seen"] });
  await t.store.append(inbox.id, msg("g2"));
  await t.store.setFlags(inbox.id, [1, 2], "add", ["\\Seen", "\\Flagged", "$Work"]);
  await t.store.setFlags(inbox.id, [1, 2], "set", ["\\Seen", "$work", "$Home"]);
  const flags = t.events.filter((e) => e.kind === "flags");
  expect(flags.map((e) => [e.uids, e.added])).toEqual([
    [
      [1, 2],
      [
        ["\\Flagged", "$Work"],
        ["\\Flagged", "\\Seen", "$Work"],
      ],
    ],
    // keywords compare case-insensitively (RFC 9051 §2.3.2): $work is not new, $Home is
    [
      [1, 2],
      [["$Home"], ["$Home"]],
    ],
  ]);
});

test("EXPUNGE finds \\Deleted messages through the partial index, not a mailbox scan", async () => {
  const r = await t.db.client.execute({ sql: "EXPLAIN QUERY PLAN SELECT uid, size, flags, blob_id FROM messages WHERE mailbox_id = ? AND (flags & 8) <> 0 ORDER BY uid", args: [inbox.id] });
  expect(r.rows.map((x) => String(x.detail)).join(" ")).toContain("messages_deleted");
});

test("STORE and EXPUNGE on a mailbox that is gone: NONEXISTENT, nothing changes", async () => {
  await t.store.append(other.id, msg("gone"), { flags: ["\\Deleted"] });
  await t.store.deleteMailbox(a.id, "Other");
  await expect(t.store.setFlags(other.id, [1], "add", ["\\Seen"])).rejects.toMatchObject({ code: "NONEXISTENT" });
  await expect(t.store.expunge(other.id)).rejects.toMatchObject({ code: "NONEXISTENT" });
  await expect(t.store.remove(other.id, [1])).rejects.toMatchObject({ code: "NONEXISTENT" });
});

test("blobList and prefixes: what read() returns, for many messages and one query", async () => {
  const r1 = await t.store.append(inbox.id, msg("1"), { prefix: ["Return-Path: <a@x.test>\r\n", "X-Ä: 1\r\n"] });
  const r2 = await t.store.append(inbox.id, msg("2"));
  await t.store.append(other.id, msg("3"));
  const list = await t.store.blobList(inbox.id);
  expect(list.map((m) => [m.id, m.uid])).toEqual([
    [r1.id, r1.uid],
    [r2.id, r2.uid],
  ]);
  const metas = await t.store.messages(inbox.id);
  expect(list.map((m) => [m.size, m.blobId])).toEqual(metas.map((m) => [m.size, m.blobId]));
  const p = await t.store.prefixes([r1.id, r2.id, 99999]);
  expect([...p]).toEqual([
    [r1.id, "Return-Path: <a@x.test>\r\nX-Ä: 1\r\n"],
    [r2.id, ""],
  ]);
  for (const m of list) {
    const prefix = Buffer.from(p.get(m.id)!);
    const body = await t.store.blobs.get(m.blobId, m.size - prefix.length);
    expect(Buffer.concat([prefix, body])).toEqual(Buffer.from(await t.store.read(m)));
  }
  // An expunged row is missing.
  await t.store.remove(inbox.id, [r1.uid]);
  expect([...(await t.store.prefixes([r1.id, r2.id])).keys()]).toEqual([r2.id]);
  expect(await t.store.prefixes([])).toEqual(new Map());
});
