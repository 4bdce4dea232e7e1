// Moving an installation's blobs between the folder and S3 (`kotakpos migrate-blobs`),
// while the server serves: every blob the database knows is copied to the target unless
// it is there already, so an interrupted run simply runs again (resumable). Nothing is
// removed from the source: the server keeps reading it until it is restarted with the
// new location (and `blobs.previous` set to the old one for anything that arrived since).
// Passes repeat until one finds nothing new, which catches mail delivered meanwhile.
import type { Db } from "../db/open.ts";
import { sha256Hex, type BlobBackend } from "./blobs.ts";

export interface MigrateBlobsResult {
  /** Copied by this run. */
  copied: number;
  bytes: number;
  /** At the target already. */
  present: number;
  /** Known to the database but in neither place (reported, not fatal). */
  missing: string[];
  passes: number;
}

const PAGE = 500;
const PARALLEL = 8;
const MAX_PASSES = 5;

export async function migrateBlobs(db: Db, from: BlobBackend, to: BlobBackend, progress: (line: string) => void = () => {}): Promise<MigrateBlobsResult> {
  const res: MigrateBlobsResult = { copied: 0, bytes: 0, present: 0, missing: [], passes: 0 };
  // One listing of the target instead of a HEAD per blob (S3); later passes add to it.
  const there = new Set<string>();
  for await (const b of to.list()) there.add(b.id);
  const missing = new Set<string>();
  for (let pass = 1; pass <= MAX_PASSES; pass++) {
    res.passes = pass;
    let copiedNow = 0;
    let after = "";
    for (;;) {
      const rs = await db.query({ sql: "SELECT id FROM blobs WHERE id > ? ORDER BY id LIMIT ?", args: [after, PAGE] });
      if (!rs.rows.length) break;
      const ids = rs.rows.map((r) => String(r.id));
      after = ids[ids.length - 1]!;
      const todo = ids.filter((id) => !there.has(id));
      if (pass === 1) res.present += ids.length - todo.length;
      for (let i = 0; i < todo.length; i += PARALLEL) {
        await Promise.all(
          todo.slice(i, i + PARALLEL).map(async (id) => {
            let data: Uint8Array;
            try {
              data = await from.get(id);
            } catch {
              // Erased by GC meanwhile (refcount 0), or lost: the target may have it.
              if (!(await to.has(id).catch(() => false))) missing.add(id);
              return;
            }
            // Content-addressed: the bytes must hash to their name, or they are not copied.
            if (sha256Hex(data) !== id) throw new Error(`blob ${id} in the source does not match its SHA-256: not copied`);
            await to.put(data, id);
            there.add(id);
            missing.delete(id);
            copiedNow++;
            res.bytes += data.length;
          }),
        );
      }
    }
    res.copied += copiedNow;
    progress(`pass ${pass}: ${copiedNow} blobs copied`);
    if (copiedNow === 0) break;
  }
  res.missing = [...missing];
  return res;
}
