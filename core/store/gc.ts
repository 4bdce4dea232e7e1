// Blob garbage collection. Invariants (crash safety): a committed row always has its
// blob file (files are fsynced before the row's transaction); a file without a row is
// either being delivered right now (pinned by prepare) or left by a crash, and is
// removed once it is older than `orphanFileAgeMs`. Rows whose refcount dropped to 0 are
// erased after `graceMs`, so sessions that have not seen the expunge can still read.
import { exec, isPinned, read, type StoreCtx } from "./ctx.ts";

export interface GcOptions {
  /** Keep unreferenced blobs this long after their last reference went (default 1 h). */
  graceMs: number;
  /** Files with no row are removed when older than this (default 10 min). */
  orphanFileAgeMs: number;
  /** Walk the blob directory for files without rows (they only come from crashes and
   *  failed deliveries: at start, then rarely). Default true. */
  scanFiles?: boolean;
}

export interface GcResult {
  erased: number;
  orphanFiles: number;
  tempFiles: number;
}

const BATCH = 500;

/** Erases rows with refcount 0 past the grace period, then their files. */
export async function eraseUnreferenced(ctx: StoreCtx, graceMs: number): Promise<number> {
  let total = 0;
  for (;;) {
    const cutoff = Date.now() - graceMs;
    const erased = await ctx.db.write(async (tx) => {
      const r = await exec(tx, "SELECT id, orphaned_at FROM blobs WHERE refcount <= 0 AND coalesce(orphaned_at, 0) <= ? LIMIT ?", [cutoff, BATCH]);
      const orphanedAt = new Map(r.rows.map((x) => [String(x.id), x.orphaned_at == null ? undefined : Number(x.orphaned_at)]));
      const ids = [...orphanedAt.keys()].filter((id) => !isPinned(ctx, id));
      if (!ids.length) return { ids, more: false };
      await exec(tx, "DELETE FROM blobs WHERE refcount <= 0 AND id IN (SELECT value FROM json_each(?))", [JSON.stringify(ids)]);
      tx.afterCommit(() => {
        // Synchronous, and re-checking pins: a prepare() that pinned meanwhile keeps its file.
        for (const id of ids) {
          if (isPinned(ctx, id)) continue;
          try {
            ctx.blobs.deleteSync(id, orphanedAt.get(id));
          } catch (err) {
            ctx.log.warn("blob unlink failed", { blob: id, err: (err as Error).message });
          }
        }
      });
      return { ids, more: r.rows.length === BATCH };
    });
    total += erased.ids.length;
    if (!erased.more) return total;
  }
}

/** Removes blob files that have no row (crash between blob write and commit). */
export async function removeOrphanFiles(ctx: StoreCtx, olderThanMs: number): Promise<number> {
  let n = 0;
  const now = Date.now();
  let batch: string[] = [];
  const flush = async () => {
    if (!batch.length) return;
    const r = await read(ctx, "SELECT id FROM blobs WHERE id IN (SELECT value FROM json_each(?))", [JSON.stringify(batch)]);
    const known = new Set(r.rows.map((x) => String(x.id)));
    for (const id of batch) {
      if (known.has(id) || isPinned(ctx, id)) continue;
      ctx.blobs.deleteSync(id);
      n++;
    }
    batch = [];
  };
  for await (const f of ctx.blobs.list()) {
    if (now - f.mtimeMs < olderThanMs) continue;
    batch.push(f.id);
    if (batch.length >= BATCH) await flush();
  }
  await flush();
  return n;
}

export async function runGc(ctx: StoreCtx, opts: GcOptions): Promise<GcResult> {
  const erased = await eraseUnreferenced(ctx, opts.graceMs);
  const scan = opts.scanFiles !== false;
  const orphanFiles = scan ? await removeOrphanFiles(ctx, opts.orphanFileAgeMs) : 0;
  const tempFiles = scan ? await ctx.blobs.cleanTemp(opts.orphanFileAgeMs) : 0;
  return { erased, orphanFiles, tempFiles };
}
