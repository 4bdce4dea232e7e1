// Filesystem BlobStore (DESIGN.md "Storage and durability"): content-addressed by SHA-256
// under <dir>/ab/cd/<hash>. A blob is written to a temp file, fsynced, renamed into place,
// and the directory fsynced, so once put() resolves the bytes survive a crash.
import { mkdir, open, readdir, rename, stat, unlink } from "node:fs/promises";
import { unlinkSync } from "node:fs";
import { join } from "node:path";
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
}

export function sha256Hex(data: Uint8Array): string {
  return new Bun.CryptoHasher("sha256").update(data).digest("hex");
}

async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, "r");
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

export async function createFsBlobStore(dir: string): Promise<FsBlobStore> {
  const tmpDir = join(dir, "tmp");
  await mkdir(tmpDir, { recursive: true });
  const knownDirs = new Set<string>();
  let seq = 0;

  const path = (id: string): string => {
    if (!HEX64.test(id)) throw new Error(`bad blob id: ${id}`);
    return join(dir, id.slice(0, 2), id.slice(2, 4), id);
  };

  /** Creates ab/cd and fsyncs each parent whose entries changed. */
  async function ensureDir(id: string): Promise<string> {
    const a = join(dir, id.slice(0, 2));
    const ab = join(a, id.slice(2, 4));
    if (knownDirs.has(ab)) return ab;
    const created = await mkdir(ab, { recursive: true });
    if (created) {
      // new directory entries must be durable too
      await fsyncDir(dir);
      await fsyncDir(a);
    }
    knownDirs.add(ab);
    return ab;
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
    async put(data: Uint8Array, knownId?: string): Promise<StoredBlob> {
      const id = knownId ?? sha256Hex(data);
      const final = path(id);
      if (await exists(final)) return { id, size: data.length };
      const parent = await ensureDir(id);
      const tmp = join(tmpDir, `${process.pid}.${++seq}.${id.slice(0, 16)}`);
      const fh = await open(tmp, "w", 0o600);
      try {
        let off = 0;
        while (off < data.length) {
          const { bytesWritten } = await fh.write(data, off, data.length - off);
          off += bytesWritten;
        }
        await fh.sync();
      } catch (e) {
        await fh.close().catch(() => {});
        await unlink(tmp).catch(() => {});
        throw e;
      }
      await fh.close();
      await rename(tmp, final);
      await fsyncDir(parent);
      return { id, size: data.length };
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
