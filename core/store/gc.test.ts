import { test, expect, afterEach } from "bun:test";
import { existsSync, mkdirSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { makeStore, msg, type TestStore } from "./test-helpers.ts";
import { createFsBlobStore, sha256Hex } from "./blobs.ts";

let t: TestStore;
afterEach(async () => {
  expect(await t.store.check()).toEqual([]);
  await t.cleanup();
});

function blobPath(blobDir: string, id: string): string {
  return join(blobDir, id.slice(0, 2), id);
}

function writeOrphan(blobDir: string, data: string, ageMs: number): string {
  const id = sha256Hex(new TextEncoder().encode(data));
  const p = blobPath(blobDir, id);
  mkdirSync(join(p, ".."), { recursive: true });
  writeFileSync(p, data);
  const when = (Date.now() - ageMs) / 1000;
  utimesSync(p, when, when);
  return p;
}

test("crash safety: a blob file without a committed row is removed once old, kept while young", async () => {
  t = await makeStore({ orphanFileAgeMs: 60_000 });
  const old = writeOrphan(t.blobDir, "crashed before commit", 5 * 60_000);
  const young = writeOrphan(t.blobDir, "delivery in progress", 1_000);
  const tmp = join(t.blobDir, "tmp", "123.4.deadbeef");
  writeFileSync(tmp, "half-written");
  utimesSync(tmp, Date.now() / 1000 - 600, Date.now() / 1000 - 600);
  // periodic runs without the directory walk leave files alone
  expect((await t.store.gc({ scanFiles: false })).orphanFiles).toBe(0);
  expect(existsSync(old)).toBe(true);
  const r = await t.store.gc();
  expect(r.orphanFiles).toBe(1);
  expect(r.tempFiles).toBe(1);
  expect(existsSync(old)).toBe(false);
  expect(existsSync(young)).toBe(true);
  expect(existsSync(tmp)).toBe(false);
});

test("crash safety after restart: a new store instance cleans leftovers", async () => {
  t = await makeStore();
  const old = writeOrphan(t.blobDir, "left by a crash", 60 * 60_000);
  await t.store.close();
  const { createStore } = await import("./index.ts");
  const { silentLog } = await import("./test-helpers.ts");
  const s2 = await createStore({ db: t.db, blobDir: t.blobDir, log: silentLog, gc: { intervalMs: 0 } });
  await s2.gc();
  expect(existsSync(old)).toBe(false);
  await s2.close();
});

test("a committed row always has its blob: referenced blobs survive GC, prepared ones are pinned", async () => {
  t = await makeStore({ orphanFileAgeMs: 0, graceMs: 0 });
  const a = await t.store.createAccount("u@a.test", "pw");
  const inbox = (await t.store.getMailbox(a.id, "INBOX"))!;
  await t.store.append(inbox.id, msg("kept"));
  // prepared but not yet committed (the spool between prepare and its transaction)
  const { blob, parsed } = await t.store.prepare(msg("pending"));
  await t.store.gc({ orphanFileAgeMs: 0, graceMs: 0 });
  expect(existsSync(blobPath(t.blobDir, blob.id))).toBe(true);
  await t.db.write((tx) => t.store.appendInTx(tx, { accountId: a.id, mailbox: "INBOX" }, blob, [], parsed));
  for (const m of await t.store.messages(inbox.id)) expect((await t.store.read(m)).length).toBe(m.size);
});

test("unreferenced blobs are erased after the grace period, not before", async () => {
  t = await makeStore();
  const a = await t.store.createAccount("u@a.test", "pw");
  const inbox = (await t.store.getMailbox(a.id, "INBOX"))!;
  await t.store.append(inbox.id, msg("gone soon"));
  const [m] = await t.store.messages(inbox.id);
  await t.store.remove(inbox.id, [m!.uid]);
  // within the grace period: row (refcount 0) and file stay, so late readers still can
  expect((await t.store.gc({ graceMs: 60_000 })).erased).toBe(0);
  expect(existsSync(blobPath(t.blobDir, m!.blobId))).toBe(true);
  // a new reference rescues it
  await t.store.append(inbox.id, msg("gone soon"));
  await t.db.client.execute("UPDATE blobs SET orphaned_at = 1");
  expect((await t.store.gc({ graceMs: 0 })).erased).toBe(0);
  await t.store.remove(inbox.id, [2]);
  // the pin of that append's prepare() ended when its row committed: with no grace, GC erases
  expect((await t.store.gc({ graceMs: 0 })).erased).toBe(1);
  expect(existsSync(blobPath(t.blobDir, m!.blobId))).toBe(false);
  expect((await t.db.client.execute("SELECT count(*) FROM blobs")).rows[0]![0]).toBe(0);
});

test("a prepare()'s pin lasts until a transaction referencing the blob commits, and survives a rollback", async () => {
  t = await makeStore();
  const a = await t.store.createAccount("u@a.test", "pw");
  const { blob, parsed } = await t.store.prepare(msg("pinned"));
  const path = blobPath(t.blobDir, blob.id);
  await expect(
    t.db.write(async (tx) => {
      await t.store.appendInTx(tx, { accountId: a.id, mailbox: "INBOX" }, blob, [], parsed);
      throw new Error("rolled back");
    }),
  ).rejects.toThrow("rolled back");
  // no row, but still pinned: the next try of the same transaction finds its file
  expect((await t.store.gc({ orphanFileAgeMs: 0, graceMs: 0 })).orphanFiles).toBe(0);
  expect(existsSync(path)).toBe(true);
  // the spool's reference (remote recipients only) releases it like a message row does
  await t.db.write((tx) => t.store.refBlobInTx(tx, blob));
  // as if its spool rows were done (orphaned after the file was written)
  await Bun.sleep(5);
  await t.db.client.execute({ sql: "UPDATE blobs SET refcount = 0, orphaned_at = ?", args: [Date.now()] });
  expect((await t.store.gc({ graceMs: 0 })).erased).toBe(1);
  expect(existsSync(path)).toBe(false);
  // every prepare() counts: two of the same bytes, one committed, the other still pinned
  const one = await t.store.prepare(msg("twice"));
  await t.store.prepare(msg("twice"));
  await t.db.write((tx) => t.store.refBlobInTx(tx, one.blob));
  await Bun.sleep(5);
  await t.db.client.execute({ sql: "UPDATE blobs SET refcount = 0, orphaned_at = ?", args: [Date.now()] });
  expect((await t.store.gc({ graceMs: 0, orphanFileAgeMs: 0 })).erased).toBe(0);
  expect(existsSync(blobPath(t.blobDir, one.blob.id))).toBe(true);
  await t.db.client.execute("DELETE FROM blobs"); // leave check() a consistent store
});

test("check() reports a missing blob file and wrong counters", async () => {
  t = await makeStore();
  const a = await t.store.createAccount("u@a.test", "pw");
  const inbox = (await t.store.getMailbox(a.id, "INBOX"))!;
  await t.store.append(inbox.id, msg("x"));
  const [m] = await t.store.messages(inbox.id);
  const p = blobPath(t.blobDir, m!.blobId);
  const saved = await Bun.file(p).bytes();
  (await import("node:fs")).unlinkSync(p);
  await t.db.client.execute("UPDATE mailboxes SET messages = messages + 5, uidnext = 1 WHERE name = 'INBOX'");
  const problems = await t.store.check();
  expect(problems.some((x) => x.includes("file is missing"))).toBe(true);
  expect(problems.some((x) => x.includes("messages=6"))).toBe(true);
  expect(problems.some((x) => x.includes("uidnext=1"))).toBe(true);
  // repair so afterEach's check passes
  writeFileSync(p, saved);
  await t.db.client.execute("UPDATE mailboxes SET messages = messages - 5, uidnext = 2 WHERE name = 'INBOX'");
});

test("fs blob store: content address layout, idempotent put, get/has/list/delete", async () => {
  t = await makeStore();
  const bs = await createFsBlobStore(join(t.dir, "b2"));
  const data = new TextEncoder().encode("hello blob");
  const a = await bs.put(data);
  const b = await bs.put(data);
  expect(a).toEqual(b);
  expect(a.id).toBe(sha256Hex(data));
  expect(existsSync(join(t.dir, "b2", a.id.slice(0, 2), a.id))).toBe(true);
  expect(await bs.get(a.id)).toEqual(data);
  expect(await bs.has(a.id)).toBe(true);
  const listed: string[] = [];
  for await (const f of bs.list()) listed.push(f.id);
  expect(listed).toEqual([a.id]);
  await bs.delete(a.id);
  await bs.delete(a.id); // idempotent
  expect(await bs.has(a.id)).toBe(false);
  expect(() => bs.path("../../etc/passwd")).toThrow();
  // equal content put concurrently: one file, every caller resolves after it is durable
  const same = await Promise.all(Array.from({ length: 10 }, () => bs.put(new TextEncoder().encode("dup"))));
  expect(new Set(same.map((x) => x.id)).size).toBe(1);
  // many blobs in fresh directories at once
  const many = await Promise.all(Array.from({ length: 100 }, (_, i) => bs.put(new TextEncoder().encode(`blob ${i}`))));
  for (const m of many) expect(new TextDecoder().decode(await bs.get(m.id))).toStartWith("blob ");
});
