// Filesystem BlobStore (DESIGN.md "Storage and durability"): content-addressed by SHA-256
// under <dir>/ab/cd/<hash>. A blob is written to a temp file, fsynced, renamed into place,
// and the directory fsynced, so once put() resolves the bytes survive a crash. The writes
// run on a worker thread, batched (blob-writer.ts).
import { readdir, stat, unlink } from "node:fs/promises";
import { closeSync, existsSync, fsync, mkdirSync, openSync, unlinkSync } from "node:fs";
import { join } from "node:path";
import { createBlobWriter } from "./blob-writer.ts";
import type { BlobStore, StoredBlob } from "./types.ts";

const HEX64 = /^[0-9a-f]{64}$/;

export interface FsBlobStore extends BlobStore {
  readonly dir: string;
  /** put() when the caller already hashed the data. */
  put(data: Uint8Array, knownId?: string): Promise<StoredBlob>;
  path(id: string): string;
  /** Synchronous unlink (used by GC so no prepare() can interleave; see gc.ts). */
  deleteSync(id: string): void;
  /** Removes temp files older than `olderThanMs` (left by a crash mid-write). */
  cleanTemp(olderThanMs: number): Promise<number>;
  /** Batches and blobs written by the writer thread (benchmarks). */
  writeStats(): { batches: number; blobs: number };
  /** Stops the writer thread (pending writes fail). */
  close(): void;
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
  // The 256 first-level directories up front: a new blob then creates at most one level.
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

  const path = (id: string): string => {
    if (!HEX64.test(id)) throw new Error(`bad blob id: ${id}`);
    return join(dir, id.slice(0, 2), id.slice(2, 4), id);
  };

  // Writes go to a worker thread in batches (see blob-writer.ts).
  const writer = createBlobWriter();
  async function write(id: string, data: Uint8Array): Promise<StoredBlob> {
    const final = path(id);
    const a = join(dir, id.slice(0, 2));
    const ab = join(a, id.slice(2, 4));
    const tmp = join(tmpDir, `${process.pid}.${++seq}.${id.slice(0, 16)}`);
    await writer.write({ tmp, final, dirA: a, dirAB: ab, root: dir, data });
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
    dir,
    path,
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
    async get(id: string): Promise<Uint8Array> {
      return await Bun.file(path(id)).bytes();
    },
    has: (id: string) => exists(path(id)),
    async delete(id: string): Promise<void> {
      await unlink(path(id)).catch((e: NodeJS.ErrnoException) => {
        if (e.code !== "ENOENT") throw e;
      });
    },
    deleteSync(id: string): void {
      try {
        unlinkSync(path(id));
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
      }
    },
    async *list(): AsyncIterable<{ id: string; mtimeMs: number }> {
      for (const a of await readdir(dir).catch(() => [] as string[])) {
        if (!/^[0-9a-f]{2}$/.test(a)) continue;
        for (const b of await readdir(join(dir, a)).catch(() => [] as string[])) {
          if (!/^[0-9a-f]{2}$/.test(b)) continue;
          for (const f of await readdir(join(dir, a, b)).catch(() => [] as string[])) {
            if (!HEX64.test(f)) continue;
            const st = await stat(join(dir, a, b, f)).catch(() => null);
            if (st) yield { id: f, mtimeMs: st.mtimeMs };
          }
        }
      }
    },
    writeStats: () => writer.stats(),
    close: () => writer.close(),
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
