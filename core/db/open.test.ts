import { test, expect, afterAll, spyOn } from "bun:test";
import fs, { mkdtempSync, readlinkSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import { openDb, type Db } from "./open.ts";
import { settings } from "./schema.ts";

const dirs: string[] = [];
async function fresh(): Promise<Db> {
  const dir = mkdtempSync(join(tmpdir(), "kotakpos-db-"));
  dirs.push(dir);
  return openDb({ url: `file:${join(dir, "sub", "k.db")}` });
}
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

test("opens, migrates, sets WAL + NORMAL (the group commit fsyncs the WAL) + foreign keys", async () => {
  const db = await fresh();
  const jm = await db.client.execute("PRAGMA journal_mode");
  expect(String(jm.rows[0]![0])).toBe("wal");
  const r = await db.write(async (tx) => (await tx.execute("PRAGMA synchronous")).rows[0]![0]);
  expect(Number(r)).toBe(1);
  const fk = await db.write(async (tx) => (await tx.execute("PRAGMA foreign_keys")).rows[0]![0]);
  expect(Number(fk)).toBe(1);
  const t = await db.client.execute("SELECT name FROM sqlite_master WHERE type='table' AND name='messages'");
  expect(t.rows.length).toBe(1);
  await db.close();
});

test("a write resolves only after the WAL is fsynced, off the event loop; commits during an fsync share the next one", async () => {
  const db = await fresh();
  const synced: string[] = [];
  const real = fs.fsync;
  // Each fsync takes 150 ms more: the writers must wait for it, the event loop must not.
  const spy = spyOn(fs, "fsync").mockImplementation(((fd: number, cb: (e: NodeJS.ErrnoException | null) => void) => {
    synced.push(readlinkSync(`/proc/self/fd/${fd}`));
    setTimeout(() => real(fd, cb), 150);
  }) as typeof fs.fsync);
  try {
    let ticks = 0;
    const iv = setInterval(() => ticks++, 10);
    const t0 = performance.now();
    const first = db.write((tx) => tx.execute({ sql: "INSERT INTO settings(key, value) VALUES ('a', '1')", args: [] }));
    await Bun.sleep(50); // committed, its fsync running
    expect((await db.query("SELECT value FROM settings WHERE key = 'a'")).rows.length).toBe(1);
    const later = Array.from({ length: 5 }, (_, i) => db.write((tx) => tx.execute({ sql: "INSERT INTO settings(key, value) VALUES (?, '1')", args: [`b${i}`] })));
    await first;
    expect(performance.now() - t0).toBeGreaterThanOrEqual(140);
    await Promise.all(later);
    clearInterval(iv);
    expect(ticks).toBeGreaterThan(15); // timers ran all along
    // One fsync for the first commit, one shared by the five that came during it.
    expect(synced.length).toBe(2);
    expect(synced.every((p) => p.endsWith("k.db-wal"))).toBe(true);
  } finally {
    spy.mockRestore();
    await db.close();
  }
});

test("group commit: concurrent writes share a transaction, a failing one rolls back alone", async () => {
  const db = await fresh();
  const order: string[] = [];
  const ps = Array.from({ length: 50 }, (_, i) =>
    db.write(async (tx) => {
      await tx.orm.insert(settings).values({ key: `k${i}`, value: String(i) });
      tx.afterCommit(() => order.push(`k${i}`));
      if (i % 10 === 3) throw new Error(`fail ${i}`);
      return i;
    }),
  );
  const res = await Promise.allSettled(ps);
  const ok = res.filter((r) => r.status === "fulfilled").length;
  expect(ok).toBe(45);
  for (const [i, r] of res.entries()) {
    if (i % 10 === 3) expect(r.status).toBe("rejected");
    else expect(r).toEqual({ status: "fulfilled", value: i });
  }
  const rows = await db.orm.select().from(settings);
  expect(rows.length).toBe(45);
  expect(rows.some((r) => r.key === "k3")).toBe(false);
  expect(order.length).toBe(45);
  await db.close();
});

test("group commit: a batch's first write (no savepoint) fails alone and its rows are gone; the next ones commit", async () => {
  const db = await fresh();
  // Queued in one turn: the first opens the transaction without a savepoint and fails
  // after writing a row; the others must still be written, in a transaction of their own.
  const ps = [0, 1, 2].map((i) =>
    db.write(async (tx) => {
      await tx.orm.insert(settings).values({ key: `f${i}`, value: String(i) });
      if (i === 0) throw new Error("first fails");
      return i;
    }),
  );
  const res = await Promise.allSettled(ps);
  expect(res[0]!.status).toBe("rejected");
  expect(res.slice(1)).toEqual([
    { status: "fulfilled", value: 1 },
    { status: "fulfilled", value: 2 },
  ]);
  const keys = (await db.orm.select().from(settings)).map((r) => r.key).sort();
  expect(keys).toEqual(["f1", "f2"]);
  // A failing write alone leaves nothing either, and the writer stays usable.
  await expect(
    db.write(async (tx) => {
      await tx.orm.insert(settings).values({ key: "alone", value: "x" });
      throw new Error("no");
    }),
  ).rejects.toThrow("no");
  expect(await db.write(async (tx) => (await tx.execute("SELECT count(*) AS n FROM settings")).rows[0]!.n)).toBe(2);
  await db.close();
});

test("onRollback runs for a write rolled back (first or under a savepoint), not for one committed", async () => {
  const db = await fresh();
  const undone: number[] = [];
  const committed: number[] = [];
  // One batch: the first fails without a savepoint, the rest run in the next batch, where
  // the middle one fails under its savepoint.
  const ps = [0, 1, 2, 3].map((i) =>
    db.write(async (tx) => {
      tx.onRollback(() => undone.push(i));
      tx.afterCommit(() => committed.push(i));
      await tx.orm.insert(settings).values({ key: `r${i}`, value: String(i) });
      if (i === 0 || i === 2) throw new Error(`fails ${i}`);
    }),
  );
  await Promise.allSettled(ps);
  expect(undone.sort()).toEqual([0, 2]);
  expect(committed.sort()).toEqual([1, 3]);
  await db.close();
});

test("reads never see uncommitted rows; afterCommit runs after the row is visible", async () => {
  const db = await fresh();
  let seenInside = -1;
  let seenAfter = -1;
  await db.write(async (tx) => {
    await tx.execute({ sql: "INSERT INTO settings(key, value) VALUES (?, ?)", args: ["a", "1"] });
    seenInside = Number((await db.client.execute("SELECT count(*) FROM settings")).rows[0]![0]);
    tx.afterCommit(() => {
      void db.client.execute("SELECT count(*) FROM settings").then((r) => (seenAfter = Number(r.rows[0]![0])));
    });
  });
  await Bun.sleep(5);
  expect(seenInside).toBe(0);
  expect(seenAfter).toBe(1);
  await db.close();
});

test("data survives close and reopen (migrations run once)", async () => {
  const dir = mkdtempSync(join(tmpdir(), "kotakpos-db-"));
  dirs.push(dir);
  const url = `file:${join(dir, "k.db")}`;
  const a = await openDb({ url });
  await a.write((tx) => tx.orm.insert(settings).values({ key: "x", value: "y" }));
  await a.close();
  const b = await openDb({ url });
  const r = await b.orm.all<{ value: string }>(sql`SELECT value FROM settings WHERE key = 'x'`);
  expect(r[0]!.value).toBe("y");
  await b.close();
});

test("write after close rejects", async () => {
  const db = await fresh();
  await db.close();
  await expect(db.write(async () => 1)).rejects.toThrow();
});

test("db.orm reads committed data; writes through it fail fast; its transaction() still works", async () => {
  const db = await fresh();
  await db.write((tx) => tx.orm.insert(settings).values({ key: "a", value: "1" }));
  expect(await db.orm.select().from(settings)).toEqual([{ key: "a", value: "1" }]);
  const err = await (async () => await db.orm.insert(settings).values({ key: "b", value: "2" }))().then(
    () => null,
    (e: Error) => e,
  );
  expect(String((err?.cause as Error | undefined)?.message)).toContain("readonly");
  const n = await db.orm.transaction(async (t) => (await t.select().from(settings)).length);
  expect(n).toBe(1);
  await db.close();
});

test("a write waits for another connection's write lock without blocking the thread, then commits", async () => {
  const dir = mkdtempSync(join(tmpdir(), "kotakpos-db-"));
  dirs.push(dir);
  const url = `file:${join(dir, "k.db")}`;
  const db = await openDb({ url, shared: true });
  // Another process's transaction: a second connection holds the write lock for 300 ms.
  const { Database } = await import("bun:sqlite");
  const other = new Database(join(dir, "k.db"));
  other.exec("BEGIN IMMEDIATE");
  let ticks = 0;
  const timer = setInterval(() => ticks++, 10);
  const t0 = performance.now();
  const done = db.write(async (tx) => tx.execute({ sql: "INSERT INTO settings(key, value) VALUES (?, ?)", args: ["waited", "1"] }));
  await Bun.sleep(300);
  other.exec("COMMIT");
  await done;
  clearInterval(timer);
  expect(performance.now() - t0).toBeGreaterThanOrEqual(290);
  expect(ticks).toBeGreaterThan(10); // the event loop ran while the write waited
  expect((await db.query("SELECT value FROM settings WHERE key = 'waited'")).rows[0]?.value).toBe("1");
  other.close();
  await db.close();
});
