// The mailbox store (DESIGN.md "Storage and durability"): accounts, mailboxes, messages,
// flags, UIDs and MODSEQ in libSQL; raw messages as content-addressed blobs on disk.
import type { Db } from "../db/open.ts";
import type { Logger } from "../types.ts";
import { createFsBlobStore, type BlobBackend } from "./blobs.ts";
import { othersWrite, type StoreCtx } from "./ctx.ts";
import { accountOps } from "./accounts.ts";
import { mailboxOps } from "./mailboxes.ts";
import { messageOps } from "./messages.ts";
import { objectOps } from "./objects.ts";
import { quotaOps } from "./quota.ts";
import { checkStore } from "./check.ts";
import { runGc, type GcOptions, type GcResult } from "./gc.ts";
import { startChangeFeed, type ChangeFeed } from "./change-feed.ts";
import type { AccountGone, Store, StoreChange } from "./types.ts";

export { StoreError, isStoreError, type StoreErrorCode } from "./errors.ts";

export interface StoreOptions {
  db: Db;
  /** The blobs folder (when `blobs` is not given). */
  blobDir?: string;
  /** A blob backend (openBlobBackend: the folder or S3). */
  blobs?: BlobBackend;
  log: Logger;
  /** Other processes or instances write this database too (listen.processes > 1, a remote
   *  database), whether or not the change feed follows them. */
  othersWrite?: boolean;
  /** Take or renew a singleton job's lease (core/lease.ts): periodic GC runs only when held. */
  singleton?: (name: string, ttlMs: number) => Promise<boolean>;
  gc?: Partial<GcOptions> & {
    /** Run GC periodically (default every 10 min); 0 disables GC timers. */
    intervalMs?: number;
    /** First run after start (default 30 s). */
    startDelayMs?: number;
  };
}

/** The Store plus maintenance entry points (not part of the shared contract). */
export interface StoreImpl extends Store {
  gc(opts?: Partial<GcOptions>): Promise<GcResult>;
  /** Follow changes other instances make on the same database (serve, remote database). */
  followOthers(intervalMs: number): ChangeFeed;
  /** Stops the GC timer. */
  close(): Promise<void>;
}

export async function createStore(opts: StoreOptions): Promise<StoreImpl> {
  const blobs = opts.blobs ?? (await createFsBlobStore(opts.blobDir ?? "blobs"));
  const ctx: StoreCtx = { db: opts.db, blobs, log: opts.log, pins: new Map(), listeners: new Set(), accountListeners: new Set(), othersWrite: opts.othersWrite };
  const gcDefaults: GcOptions = { graceMs: opts.gc?.graceMs ?? 60 * 60_000, orphanFileAgeMs: opts.gc?.orphanFileAgeMs ?? 10 * 60_000 };
  let gcRunning: Promise<GcResult> | null = null;
  const gc = (o: Partial<GcOptions> = {}): Promise<GcResult> => {
    const run = async () => {
      // Expired pins are dropped here so the map stays small.
      for (const [id, p] of ctx.pins) if (p.until < Date.now()) ctx.pins.delete(id);
      return runGc(ctx, { ...gcDefaults, ...o });
    };
    const p: Promise<GcResult> = (gcRunning ?? Promise.resolve()).catch(() => {}).then(run);
    gcRunning = p;
    return p;
  };
  const logGc = (p: Promise<GcResult>) =>
    p.then(
      (r) => (r.erased || r.orphanFiles || r.tempFiles) && opts.log.info("blob gc", { ...r }),
      (err: Error) => opts.log.warn("blob gc failed", { err: err.message }),
    );
  // Shortly after start crash leftovers (files without rows, temp files) go, then
  // periodically. Delayed so short-lived processes (CLI commands) never collect: only a
  // long-running server does, and pins (in-memory) then cover its own deliveries.
  const interval = opts.gc?.intervalMs ?? 10 * 60_000;
  const startDelay = opts.gc?.startDelayMs ?? 30_000;
  let timer: ReturnType<typeof setInterval> | null = null;
  let feed: ChangeFeed | null = null;
  // The full directory walk runs at the first collection and then daily.
  const SCAN_EVERY_MS = 24 * 60 * 60_000;
  let lastScan = 0;
  const periodic = async () => {
    if (opts.singleton && !(await opts.singleton("gc", interval * 2).catch(() => false))) return;
    const scanFiles = Date.now() - lastScan >= SCAN_EVERY_MS;
    if (scanFiles) lastScan = Date.now();
    logGc(gc({ scanFiles }));
  };
  const startTimer =
    interval > 0
      ? setTimeout(() => {
          void periodic();
          timer = setInterval(() => void periodic(), interval);
          timer.unref?.();
        }, startDelay)
      : null;
  startTimer?.unref?.();

  return {
    ...accountOps(ctx),
    ...mailboxOps(ctx),
    ...messageOps(ctx),
    ...objectOps(ctx),
    ...quotaOps(ctx),
    onChange(cb: (ev: StoreChange) => void): () => void {
      ctx.listeners.add(cb);
      return () => ctx.listeners.delete(cb);
    },
    onAccountGone(cb: (ev: AccountGone) => void): () => void {
      ctx.accountListeners.add(cb);
      return () => ctx.accountListeners.delete(cb);
    },
    othersWrite: () => othersWrite(ctx),
    check: () => checkStore(ctx),
    blobs,
    gc,
    followOthers(intervalMs) {
      feed ??= startChangeFeed(ctx, intervalMs);
      return feed;
    },
    async close() {
      feed?.stop();
      if (startTimer) clearTimeout(startTimer);
      if (timer) clearInterval(timer);
      await gcRunning?.catch(() => {});
      blobs.close();
    },
  };
}
