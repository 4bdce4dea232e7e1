// Filesystem BlobStore (DESIGN.md "Storage and durability"): content-addressed by SHA-256
// under <dir>/ab/<hash>, the 256 directories made at start. (Stores written before kept
// <dir>/ab/cd/<hash>: still read, listed and deleted. That layout created a directory for
// nearly every blob of the first ~100k — a mkdir plus a directory fsync each.) A blob is written to a temp file, fsynced, renamed into place,
// and the directory fsynced, so once put() resolves the bytes survive a crash. The writes
// run on a worker thread, batched (blob-writer.ts).
import { readdir, stat, unlink } from "node:fs/promises";
import { closeSync, existsSync, fsync, mkdirSync, openSync, readFileSync, readSync, statSync, unlinkSync } from "node:fs";
import { join } from "node:path";
import { createBlobBatchReader } from "./blob-reader.ts";
import { createBlobWriter } from "./blob-writer.ts";
import type { BlobStore, StoredBlob } from "./types.ts";

/** A blob id: SHA-256 in lower-case hex. */
export const HEX64 = /^[0-9a-f]{64}$/;

/** What the store needs of a blob backend: the filesystem (below) or S3 (s3-blobs.ts). */
export interface BlobBackend extends BlobStore {
  readonly kind: "fs" | "s3";
  /** put() when the caller already hashed the data. */
  put(data: Uint8Array, knownId?: string): Promise<StoredBlob>;
  /** Delete now, in order with later puts of the same id (GC calls it after its commit
   *  and after re-checking pins, so no prepare() can interleave; see gc.ts). Shared
   *  storage (S3) keeps an object written after `writtenBefore`: another instance has
   *  stored the same content again since the row was orphaned, and commits a new row. */
  deleteSync(id: string, writtenBefore?: number): void;
  /** Removes temp files older than `olderThanMs` (left by a crash mid-write). */
  cleanTemp(olderThanMs: number): Promise<number>;
  /** Batches and blobs written (benchmarks). */
  writeStats(): { batches: number; blobs: number };
  /** Stops background work (pending writes fail). */
  close(): void;
}

export interface FsBlobStore extends BlobBackend {
  readonly kind: "fs";
  readonly dir: string;
  path(id: string): string;
  readInto(id: string, size: number, buf: Uint8Array, offset: number): void;
  readMany(blobs: readonly { id: string; size: number }[], into?: SharedArrayBuffer): Promise<(Uint8Array | null)[]>;
}

export function sha256Hex(data: Uint8Array): string {
  return new Bun.CryptoHasher("sha256").update(data).digest("hex");
}

function fsyncFd(fd: number): Promise<void> {
  return new Promise((resolve, reject) => fsync(fd, (e) => (e ? reject(e) : resolve())));
}

async function fsyncDir(dir: string): Promise<void> {
  const fd = openSync(dir, "r");
  try {
    await fsyncFd(fd);
  } finally {
    closeSync(fd);
  }
}

export async function createFsBlobStore(dir: string): Promise<FsBlobStore> {
  const tmpDir = join(dir, "tmp");
  mkdirSync(tmpDir, { recursive: true });
  // The 256 directories up front: writing a blob never creates one.
  let createdTop = false;
  for (let i = 0; i < 256; i++) {
    const d = join(dir, i.toString(16).padStart(2, "0"));
    if (!existsSync(d)) {
      mkdirSync(d);
      createdTop = true;
    }
  }
  if (createdTop) await fsyncDir(dir);
  const inflight = new Map<string, Promise<StoredBlob>>();
  let seq = 0;

  const SYNC_READ_MAX = 128 * 1024;
  // Concatenation, not join(): this runs per read (~1 µs less than join's normalizing).
  const path = (id: string): string => {
    if (!HEX64.test(id)) throw new Error(`bad blob id: ${id}`);
    return `${dir}/${id.slice(0, 2)}/${id}`;
  };
  /** Where the earlier two-level layout kept the blob. */
  const legacyPath = (id: string): string => join(dir, id.slice(0, 2), id.slice(2, 4), id);

  // Writes go to a worker thread in batches (see blob-writer.ts).
  const writer = createBlobWriter();
  // Batched small reads go to another (blob-reader.ts).
  const reader = createBlobBatchReader();
  async function write(id: string, data: Uint8Array): Promise<StoredBlob> {
    const final = path(id);
    const tmp = join(tmpDir, `${process.pid}.${++seq}.${id.slice(0, 16)}`);
    await writer.write({ tmp, final, dir: join(dir, id.slice(0, 2)), parent: dir, data });
    return { id, size: data.length };
  }

  async function exists(p: string): Promise<boolean> {
    try {
      await stat(p);
      return true;
    } catch {
      return false;
    }
  }

  return {
    kind: "fs",
    dir,
    path,
    syncReadMax: SYNC_READ_MAX,
    put(data: Uint8Array, knownId?: string): Promise<StoredBlob> {
      const id = knownId ?? sha256Hex(data);
      // Equal content being written right now: wait for that write's fsyncs, because the
      // file becomes visible (rename) before its directory entry is durable.
      const running = inflight.get(id);
      if (running) return running;
      const p = write(id, data).finally(() => inflight.delete(id));
      inflight.set(id, p);
      return p;
    },
    async get(id: string, size?: number): Promise<Uint8Array> {
      try {
        // A small blob is read on this thread: ~15 µs from the page cache against ~40 µs
        // for the thread-pool hop of an async read (10 KiB, the POP3 RETR and IMAP FETCH
        // path); large ones still go async so a big read never stalls other sessions.
        if (size !== undefined && size <= SYNC_READ_MAX) return readFileSync(path(id));
        return await Bun.file(path(id)).bytes();
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
        return await Bun.file(legacyPath(id)).bytes();
      }
    },
    readInto(id: string, size: number, buf: Uint8Array, offset: number): void {
      if (size > SYNC_READ_MAX) throw new Error(`blob of ${size} bytes is read with get()`);
      const fd = openSync(path(id), "r");
      try {
        // One byte more than asked: a file longer than `size` is not what the row says. A
        // regular file reads short only at its end: one read() in the usual case.
        let got = 0;
        for (;;) {
          const want = size + 1 - got;
          const n = readSync(fd, buf, offset + got, want, got);
          got += n;
          if (n < want || got > size) break;
        }
        if (got !== size) throw new Error(`blob ${id} has ${got} bytes, expected ${size}`);
      } finally {
        closeSync(fd);
      }
    },
    async readMany(blobs: readonly { id: string; size: number }[], into?: SharedArrayBuffer): Promise<(Uint8Array | null)[]> {
      const ok = blobs.map((b) => HEX64.test(b.id) && b.size <= SYNC_READ_MAX);
      const got = await reader.read(
        blobs.filter((_, i) => ok[i]).map((b) => ({ path: path(b.id), size: b.size })),
        into,
      );
      let k = 0;
      return ok.map((o) => (o ? got[k++]! : null));
    },
    has: async (id: string) => (await exists(path(id))) || (await exists(legacyPath(id))),
    async delete(id: string): Promise<void> {
      for (const p of [path(id), legacyPath(id)]) {
        await unlink(p).catch((e: NodeJS.ErrnoException) => {
          if (e.code !== "ENOENT") throw e;
        });
      }
    },
    deleteSync(id: string, writtenBefore?: number): void {
      for (const p of [path(id), legacyPath(id)]) {
        try {
          // Another process of this server (listen.processes) may have stored the same
          // content again since the row was orphaned (pins are per process): keep it.
          if (writtenBefore !== undefined && statSync(p).mtimeMs > writtenBefore) continue;
          unlinkSync(p);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
        }
      }
    },
    async *list(): AsyncIterable<{ id: string; mtimeMs: number }> {
      const files = async function* (d: string): AsyncIterable<{ id: string; mtimeMs: number }> {
        for (const f of await readdir(d).catch(() => [] as string[])) {
          if (!HEX64.test(f)) continue;
          const st = await stat(join(d, f)).catch(() => null);
          if (st) yield { id: f, mtimeMs: st.mtimeMs };
        }
      };
      for (const a of await readdir(dir).catch(() => [] as string[])) {
        if (!/^[0-9a-f]{2}$/.test(a)) continue;
        yield* files(join(dir, a));
        for (const b of await readdir(join(dir, a)).catch(() => [] as string[])) {
          if (/^[0-9a-f]{2}$/.test(b)) yield* files(join(dir, a, b)); // earlier layout
        }
      }
    },
    writeStats: () => writer.stats(),
    close() {
      writer.close();
      reader.close();
    },
    async cleanTemp(olderThanMs: number): Promise<number> {
      let n = 0;
      const now = Date.now();
      for (const f of await readdir(tmpDir).catch(() => [] as string[])) {
        const st = await stat(join(tmpDir, f)).catch(() => null);
        if (st && now - st.mtimeMs > olderThanMs) {
          await unlink(join(tmpDir, f)).catch(() => {});
          n++;
        }
      }
      return n;
    },
  };
}
