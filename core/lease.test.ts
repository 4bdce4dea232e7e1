// Singleton leases: one holder at a time on a shared database, renewal, expiry and
// release; an embedded database (one process) never writes a lease.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openDb, type Db } from "./db/open.ts";
import { createLeases } from "./lease.ts";

let dir: string;
let db: Db;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "kotakpos-lease-"));
  db = await openDb({ url: `file:${join(dir, "k.db")}` });
});
afterAll(async () => {
  await db.close();
  rmSync(dir, { recursive: true, force: true });
});

test("one instance at a time holds a lease; it expires or is released", async () => {
  const a = createLeases(db, "a", true);
  const b = createLeases(db, "b", true);
  const t = 1_000_000;
  expect(await a.hold("job", 1000, t)).toBe(true);
  expect(await b.hold("job", 1000, t + 10)).toBe(false);
  expect(await b.hold("other", 1000, t + 10)).toBe(true); // leases are per name
  expect(await a.hold("job", 1000, t + 500)).toBe(true); // renewed
  expect(await b.hold("job", 1000, t + 1400)).toBe(false);
  expect(await b.hold("job", 1000, t + 1600)).toBe(true); // a's expired: taken over
  await a.release("job"); // not a's any more: no effect
  expect(await a.hold("job", 1000, t + 1700)).toBe(false);
  await b.releaseAll();
  expect(await a.hold("job", 1000, t + 1800)).toBe(true);
  expect((await db.query("SELECT name, owner FROM leases ORDER BY name")).rows.map((r) => `${r.name}:${r.owner}`)).toEqual(["job:a"]);
});

test("concurrent takers: exactly one wins", async () => {
  const takers = Array.from({ length: 8 }, (_, i) => createLeases(db, `t${i}`, true));
  const won = await Promise.all(takers.map((l) => l.hold("race", 60_000)));
  expect(won.filter(Boolean).length).toBe(1);
});

test("an embedded database: every lease is ours, nothing is written", async () => {
  const l = createLeases(db, "solo");
  expect(await l.hold("gc", 1000)).toBe(true);
  expect((await db.query("SELECT count(*) AS n FROM leases WHERE owner = 'solo'")).rows[0]!.n).toBe(0);
});
