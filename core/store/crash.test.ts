// The durability contract under SIGKILL: every acknowledged append is there after a
// restart, the invariants hold, and blobs written for unacknowledged appends are cleaned.
import { test, expect } from "bun:test";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openDb } from "../db/open.ts";
import { createStore } from "./index.ts";
import { silentLog } from "./test-helpers.ts";
import { createFsBlobStore } from "./blobs.ts";

test("SIGKILL during concurrent appends loses no acknowledged message", async () => {
  const dir = mkdtempSync(join(tmpdir(), "kotakpos-crash-"));
  try {
    const acked = new Set<number>();
    for (let round = 0; round < 2; round++) {
      const child = Bun.spawn([process.execPath, join(import.meta.dir, "crash-child.ts"), dir], { stdout: "pipe", stderr: "inherit" });
      const reader = child.stdout.getReader();
      let buf = "";
      let count = 0;
      const target = 150 + round * 50;
      while (count < target) {
        const { value, done } = await reader.read();
        if (done) break;
        buf += new TextDecoder().decode(value);
        const lines = buf.split("\n");
        buf = lines.pop()!;
        for (const l of lines) {
          if (/^\d+$/.test(l)) {
            acked.add(Number(l));
            count++;
          }
        }
      }
      child.kill("SIGKILL");
      await child.exited;
      expect(count).toBeGreaterThanOrEqual(target);
    }
    const db = await openDb({ url: `file:${join(dir, "k.db")}` });
    const store = await createStore({ db, blobDir: join(dir, "blobs"), log: silentLog, gc: { intervalMs: 0 } });
    // files of unacknowledged appends (no row) and half-written temp files go
    await store.gc({ orphanFileAgeMs: 0 });
    const acct = (await store.getAccount("u@a.test"))!;
    const inbox = (await store.getMailbox(acct.id, "INBOX"))!;
    const uids = new Set((await store.uidList(inbox.id)).map((m) => m.uid));
    for (const u of acked) expect(uids.has(u)).toBe(true);
    expect(await store.check()).toEqual([]);
    // every blob file left on disk has a row (orphans of unacknowledged appends are gone)
    const rows = new Set((await db.client.execute("SELECT id FROM blobs")).rows.map((r) => String(r.id)));
    const files: string[] = [];
    for await (const f of (await createFsBlobStore(join(dir, "blobs"))).list()) files.push(f.id);
    for (const f of files) expect(rows.has(f)).toBe(true);
    expect(readdirSync(join(dir, "blobs", "tmp"))).toEqual([]);
    await store.close();
    await db.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, 60_000);
