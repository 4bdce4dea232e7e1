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
