// listen.processes > 1: each process keeps the counts, holds and bans in memory. refresh()
// takes in the other processes' (and an admin's release) from the tables, without
// losing or undoing a change of its own whose write is still on its way.
import { afterEach, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openDb, type Db } from "../../core/db/open.ts";
import { silentLog } from "../../core/store/test-helpers.ts";
import { RateState } from "./state.ts";

const HOUR = 3_600_000;
let dbs: Db[] = [];
let dir = "";
afterEach(async () => {
  for (const d of dbs) await d.close();
  dbs = [];
  rmSync(dir, { recursive: true, force: true });
});

test("two processes: counts add up, a hold set in one is seen in the other, a release reaches both", async () => {
  dir = mkdtempSync(join(tmpdir(), "kotakpos-rl-"));
  const url = `file:${join(dir, "k.db")}`;
  dbs = [await openDb({ url }), await openDb({ url })];
  const [a, b] = dbs.map((d) => new RateState(d, silentLog)) as [RateState, RateState];
  const t0 = Date.now();
  a.add("m:a:1", 3, t0);
  b.add("m:a:1", 2, t0);
  await Promise.all([a.flush(), b.flush()]);
  expect(b.count("m:a:1", HOUR, t0)).toBe(2); // its own only, until it refreshes
  await b.refresh(t0);
  expect(b.count("m:a:1", HOUR, t0)).toBe(5);
  // Later (no change of its own in flight): the tables alone.
  await a.refresh(t0 + 20_000);
  expect(a.count("m:a:1", HOUR, t0 + 20_000)).toBe(5);

  a.setFlag("held:1", HOUR, "burst", t0);
  await a.flush();
  expect(b.flag("held:1", t0)).toBeNull();
  await b.refresh(t0);
  expect(b.flag("held:1", t0)?.note).toBe("burst");

  // The admin releases in one process; the other lets go at its next refresh.
  a.dropFlag("held:1");
  a.clear("m:a:1");
  await a.flush();
  await b.refresh(t0 + 20_000);
  expect(b.flag("held:1", t0 + 20_000)).toBeNull();
  expect(b.count("m:a:1", HOUR, t0 + 20_000)).toBe(0);
});

test("a refresh keeps a change of ours whose write has not landed yet", async () => {
  dir = mkdtempSync(join(tmpdir(), "kotakpos-rl-"));
  dbs = [await openDb({ url: `file:${join(dir, "k.db")}` })];
  const a = new RateState(dbs[0]!, silentLog);
  const now = Date.now();
  a.setFlag("ban:192.0.2.1", HOUR, "", now);
  await a.flush();
  a.dropFlag("ban:192.0.2.1"); // its DELETE not awaited
  a.add("m:i:192.0.2.1", 4, now);
  await a.refresh(now);
  expect(a.flag("ban:192.0.2.1", now)).toBeNull();
  expect(a.count("m:i:192.0.2.1", HOUR, now)).toBe(4);
  await a.flush();
});
