// The batched blob writer: concurrent puts land in batches, every put resolves with its
// file in place, the caller's buffer is left intact, and failures reach the caller.
import { test, expect } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createFsBlobStore, sha256Hex } from "./blobs.ts";

test("concurrent puts share batches; each file is complete when put resolves", async () => {
  const dir = mkdtempSync(join(tmpdir(), "kotakpos-bw-"));
  const bs = await createFsBlobStore(dir);
  try {
    // Buffer views into one pool: the writer must copy, not detach or over-copy them.
    const pool = Buffer.from(Array.from({ length: 300 }, (_, i) => `message ${i} `.padEnd(40, "x")).join(""));
    const views = Array.from({ length: 300 }, (_, i) => pool.subarray(i * 40, i * 40 + 40));
    const stored = await Promise.all(views.map((v) => bs.put(v)));
    expect(pool.length).toBe(12_000); // not detached
    for (let i = 0; i < views.length; i++) {
      expect(stored[i]!.id).toBe(sha256Hex(views[i]!));
      expect(Buffer.from(await Bun.file(bs.path(stored[i]!.id)).bytes()).equals(views[i]!)).toBe(true);
    }
    const s = bs.writeStats();
    expect(s.blobs).toBe(300);
    expect(s.batches).toBeLessThan(300); // they were grouped
    expect(readdirSync(join(dir, "tmp"))).toEqual([]);
  } finally {
    bs.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a failed write rejects put and leaves no file; the writer carries on", async () => {
  const dir = mkdtempSync(join(tmpdir(), "kotakpos-bw-"));
  const bs = await createFsBlobStore(dir);
  try {
    // the temp dir replaced by a file: creating the temp file fails (ENOTDIR, even as root)
    rmSync(join(dir, "tmp"), { recursive: true });
    await Bun.write(join(dir, "tmp"), "not a directory");
    const data = new TextEncoder().encode("cannot be written");
    await expect(bs.put(data)).rejects.toThrow(/blob write failed/);
    expect(existsSync(bs.path(sha256Hex(data)))).toBe(false);
    rmSync(join(dir, "tmp"));
    mkdirSync(join(dir, "tmp"));
    const ok = await bs.put(data);
    expect(existsSync(bs.path(ok.id))).toBe(true);
  } finally {
    bs.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
