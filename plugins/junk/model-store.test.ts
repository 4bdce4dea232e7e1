// The sender-domain counts read at delivery are cached; training (bumpSender) is seen at once.
import { afterEach, expect, spyOn, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openDb, type Db } from "../../core/db/open.ts";
import { ModelStore } from "./model-store.ts";

let db: Db | null = null;
let dir = "";
afterEach(async () => {
  await db?.close();
  db = null;
  rmSync(dir, { recursive: true, force: true });
});

test("sender counts: one read per account and domain until bumpSender writes them", async () => {
  dir = mkdtempSync(join(tmpdir(), "kotakpos-junk-"));
  db = await openDb({ url: `file:${join(dir, "k.db")}` });
  await db.write((tx) => tx.execute({ sql: "INSERT INTO domains(name, created_at) VALUES ('example.test', 0)" }));
  await db.write((tx) => tx.execute({ sql: "INSERT INTO accounts(address, domain_id, password_hash, modseq, disabled, created_at) VALUES ('a@example.test', 1, 'x', 1, 0, 0)" }));
  const models = new ModelStore(db);
  const reads = spyOn(db, "query");
  expect(await models.sender(1, "shop.example")).toBeNull();
  expect(await models.sender(1, "shop.example")).toBeNull();
  expect(reads.mock.calls.length).toBe(1);
  await models.bumpSender(1, "shop.example", "spam", 1);
  expect(await models.sender(1, "shop.example")).toEqual({ ham: 0, spam: 1 });
  // A caller changing what it got does not change the cache.
  (await models.sender(1, "shop.example"))!.spam = 9;
  expect(await models.sender(1, "shop.example")).toEqual({ ham: 0, spam: 1 });
  await models.bumpSender(1, "shop.example", "ham", 1);
  expect(await models.sender(1, "shop.example")).toEqual({ ham: 1, spam: 1 });
  expect(await models.sender(2, "shop.example")).toBeNull();
  expect(reads.mock.calls.length).toBe(4); // first read, after each bump, the other account
  reads.mockRestore();
});

// listen.processes > 1: each process keeps its own copy of an account's model. Training in
// one must not undo the other's in the database, and each copy is read again in a minute.
test("two processes training one account: the rows get both, and a copy a minute old is read again", async () => {
  dir = mkdtempSync(join(tmpdir(), "kotakpos-junk-"));
  db = await openDb({ url: `file:${join(dir, "k.db")}` });
  await db.write((tx) => tx.execute({ sql: "INSERT INTO domains(name, created_at) VALUES ('example.test', 0)" }));
  await db.write((tx) => tx.execute({ sql: "INSERT INTO accounts(address, domain_id, password_hash, modseq, disabled, created_at) VALUES ('a@example.test', 1, 'x', 1, 0, 0)" }));
  const db2 = await openDb({ url: `file:${join(dir, "k.db")}` });
  try {
    let now = 1_000_000;
    const opts = { othersWrite: () => true, now: () => now };
    const a = new ModelStore(db, opts);
    const b = new ModelStore(db2, opts);
    // Both copies loaded (empty) before either trains.
    await a.model(1);
    await b.model(1);
    await a.learn(1, new Set(["cheap", "pills"]), "spam", 1);
    await b.learn(1, new Set(["cheap", "watches"]), "spam", 1);
    await b.learn(1, new Set(["meeting"]), "ham", 1);
    const rows = (await db.query("SELECT token, spam, ham FROM junk_tokens ORDER BY token")).rows.map((r) => [r.token, Number(r.spam), Number(r.ham)]);
    expect(rows).toEqual([
      ["cheap", 2, 0],
      ["meeting", 0, 1],
      ["pills", 1, 0],
      ["watches", 1, 0],
    ]);
    const totals = (await db.query("SELECT spam, ham FROM junk_totals WHERE account_id = 1")).rows[0]!;
    expect([Number(totals.spam), Number(totals.ham)]).toEqual([2, 1]);
    // Unlearning moves the rows by one too (and drops what reaches nothing).
    await a.learn(1, new Set(["cheap", "watches"]), "spam", -1);
    expect((await db.query("SELECT token, spam FROM junk_tokens WHERE spam > 0 ORDER BY token")).rows.map((r) => [r.token, Number(r.spam)])).toEqual([
      ["cheap", 1],
      ["pills", 1],
    ]);
    // A's copy lacks B's training until it is a minute old.
    expect((await a.model(1)).tokens.has("meeting")).toBe(false);
    now += 61_000;
    expect((await a.model(1)).tokens.get("meeting")).toEqual({ spam: 0, ham: 1 });
  } finally {
    await db2.close();
  }
});
