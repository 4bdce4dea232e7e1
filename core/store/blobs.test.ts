// Blob layout: new blobs go to <dir>/ab/<hash>; blobs of the earlier <dir>/ab/cd/<hash>
// layout are still read, found, listed and deleted (a store written by an older build).
import { test, expect } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createFsBlobStore, sha256Hex } from "./blobs.ts";

test("new blobs are one level deep; the earlier two-level layout still works", async () => {
  const dir = mkdtempSync(join(tmpdir(), "kotakpos-blobs-"));
  const bs = await createFsBlobStore(dir);
  try {
    const fresh = await bs.put(new TextEncoder().encode("new layout"));
    expect(existsSync(join(dir, fresh.id.slice(0, 2), fresh.id))).toBe(true);
    expect(readdirSync(join(dir, fresh.id.slice(0, 2)))).toEqual([fresh.id]); // no subdirectory made

    const old = new TextEncoder().encode("written by an older build");
    const oldId = sha256Hex(old);
    mkdirSync(join(dir, oldId.slice(0, 2), oldId.slice(2, 4)), { recursive: true });
    writeFileSync(join(dir, oldId.slice(0, 2), oldId.slice(2, 4), oldId), old);
    expect(await bs.get(oldId)).toEqual(old);
    expect(await bs.has(oldId)).toBe(true);
    const listed: string[] = [];
    for await (const f of bs.list()) listed.push(f.id);
    expect(listed.sort()).toEqual([fresh.id, oldId].sort());
    bs.deleteSync(oldId);
    expect(await bs.has(oldId)).toBe(false);
    await bs.delete(fresh.id);
    expect(await bs.has(fresh.id)).toBe(false);
    await expect(bs.get(fresh.id)).rejects.toThrow();
  } finally {
    bs.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("GC's deleteSync keeps a file written again after its row was orphaned (another process stored it)", async () => {
  const dir = mkdtempSync(join(tmpdir(), "kotakpos-blobs-"));
  const bs = await createFsBlobStore(dir);
  try {
    const { id } = await bs.put(new TextEncoder().encode("stored again"));
    bs.deleteSync(id, Date.now() - 60_000); // orphaned a minute before this write
    expect(await bs.has(id)).toBe(true);
    bs.deleteSync(id, Date.now() + 1000); // written before the orphaning: gone
    expect(await bs.has(id)).toBe(false);
    bs.deleteSync(id, Date.now()); // already gone: no error
  } finally {
    bs.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a read with the size known returns the whole blob, also when the size given is wrong", async () => {
  const dir = mkdtempSync(join(tmpdir(), "kotakpos-blobs-"));
  const bs = await createFsBlobStore(dir);
  try {
    const data = new TextEncoder().encode("x".repeat(10_000));
    const { id } = await bs.put(data);
    for (const size of [data.length, data.length - 1, data.length + 1, 0, undefined, 1 << 20]) expect(Buffer.from(await bs.get(id, size))).toEqual(Buffer.from(data));
    // The legacy layout is found with a size too.
    const old = new TextEncoder().encode("older build, size known");
    const oldId = sha256Hex(old);
    mkdirSync(join(dir, oldId.slice(0, 2), oldId.slice(2, 4)), { recursive: true });
    writeFileSync(join(dir, oldId.slice(0, 2), oldId.slice(2, 4), oldId), old);
    expect(Buffer.from(await bs.get(oldId, old.length))).toEqual(Buffer.from(old));
  } finally {
    bs.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("readInto reads a blob at an offset of the caller's buffer; a missing, shorter or longer file throws", async () => {
  const dir = mkdtempSync(join(tmpdir(), "kotakpos-blobs-"));
  const bs = await createFsBlobStore(dir);
  try {
    const data = Buffer.alloc(70_000, "abc\r\n");
    const { id } = await bs.put(data);
    const buf = Buffer.alloc(100_000, 0x7e);
    bs.readInto(id, data.length, buf, 13);
    expect(buf.subarray(13, 13 + data.length).equals(data)).toBe(true);
    expect(buf[12]).toBe(0x7e);
    expect(() => bs.readInto(id, data.length - 1, buf, 0)).toThrow(/expected/);
    expect(() => bs.readInto(id, data.length + 1, buf, 0)).toThrow(/expected/);
    expect(() => bs.readInto(sha256Hex(Buffer.from("none")), 4, buf, 0)).toThrow();
    expect(() => bs.readInto(id, bs.syncReadMax! + 1, Buffer.alloc(bs.syncReadMax! + 2), 0)).toThrow(/get\(\)/);
  } finally {
    bs.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("readMany reads blobs on the reader thread into the caller's shared buffer; missing, wrong-sized and bad ids are null", async () => {
  const dir = mkdtempSync(join(tmpdir(), "kotakpos-blobs-"));
  const bs = await createFsBlobStore(dir);
  try {
    const datas = Array.from({ length: 20 }, (_, i) => new TextEncoder().encode(`blob ${i} `.repeat(100 + i * 37)));
    const ids = await Promise.all(datas.map(async (d) => (await bs.put(d)).id));
    const gone = (await bs.put(new TextEncoder().encode("deleted before the read"))).id;
    bs.deleteSync(gone);
    const asks = [
      ...ids.map((id, i) => ({ id, size: datas[i]!.length })),
      { id: gone, size: 23 },
      { id: ids[0]!, size: datas[0]!.length - 1 }, // the file is longer
      { id: ids[1]!, size: datas[1]!.length + 1 }, // the file is shorter
      { id: "../../etc/passwd", size: 10 },
      { id: ids[2]!, size: 1 << 30 }, // past syncReadMax: not for this path
    ];
    const into = new SharedArrayBuffer(asks.reduce((a, b) => a + (b.size < 1 << 20 ? b.size + 1 : 0), 0));
    const got = await bs.readMany(asks, into);
    expect(got).toHaveLength(asks.length);
    datas.forEach((d, i) => {
      expect(got[i]).toEqual(d);
      expect(got[i]!.buffer).toBe(into);
    });
    expect(got.slice(datas.length)).toEqual([null, null, null, null, null]);
    // Without a buffer (or one too small) it makes its own.
    const again = await bs.readMany([{ id: ids[3]!, size: datas[3]!.length }], new SharedArrayBuffer(4));
    expect(again[0]).toEqual(datas[3]);
    expect(await bs.readMany([])).toEqual([]);
  } finally {
    bs.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
