// Opens the metadata database (DESIGN.md "Storage and durability"): an embedded libSQL
// file (WAL; every group commit's WAL fsynced before its writers resolve — wal-sync.ts —
// so a committed transaction survives power loss) or a
// remote libSQL server (libsql://, http(s)://, ws(s)://), migrated at open.
//
// Writes go through `Db.write(fn)`, a group commit: every fn queued while a write
// transaction is open joins it under its own SAVEPOINT (a failing fn rolls back only
// itself), then one COMMIT (one fsync) resolves them all. Writers are serialized
// in-process: one write transaction at a time, on a dedicated connection; reads use
// another client and so never see uncommitted rows.
// The file client only: the remote one (hrana over HTTP/WebSocket) loads when a remote URL is used.
import { createClient } from "@libsql/client/sqlite3";
import type { Client, InStatement, ResultSet, Transaction } from "@libsql/client";
import { drizzle } from "drizzle-orm/libsql/sqlite3";
import type { LibSQLDatabase } from "drizzle-orm/libsql";
import { migrate } from "drizzle-orm/libsql/migrator";
import { existsSync, mkdtempSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { DISK_FULL_TEXT, DiskFullError, freeBytes, isDiskFull, LOW_SPACE_BYTES } from "../disk.ts";
import type { Logger } from "../types.ts";
import { openLocal, type LocalConn } from "./local.ts";
import { walSync, type WalSync } from "./wal-sync.ts";
import * as schema from "./schema.ts";
import { migrationFiles } from "./migrations.gen.ts";
import { dbSchemaState, schemaOf, SchemaTooNewError, type MigrationFiles } from "./schema-version.ts";

export type Schema = typeof schema;
export type Orm = LibSQLDatabase<Schema>;

/** A write transaction as seen by one `write` fn. */
export interface Tx {
  /** drizzle bound to the open transaction (reads see its own uncommitted rows). */
  orm: Orm;
  /** Raw statements in the open transaction (fast path, no query builder). */
  execute(stmt: InStatement): Promise<ResultSet>;
  /** Runs after the COMMIT that made this fn's work durable (not if it rolled back). */
  afterCommit(fn: () => void): void;
  /** Runs if this fn's work is rolled back (its own failure, or the whole transaction's). */
  onRollback(fn: () => void): void;
}

export interface Db {
  /** drizzle for reads of committed data (embedded: a read-only connection with cached
   *  statements). Write with `write`. */
  orm: Orm;
  /** The read client (libSQL). */
  client: Client;
  /** A fast read of committed data (embedded: cached prepared statements on a read-only
   *  connection; remote: the client). Prefer it on hot read paths. */
  query(stmt: InStatement): Promise<ResultSet>;
  /** Group-committed write transaction; resolves with fn's result after COMMIT. */
  write<T>(fn: (tx: Tx) => Promise<T>): Promise<T>;
  /** True for an embedded file database (blob fsync matters, WAL in use). */
  readonly local: boolean;
  /** Why writes are refused (started on a full disk: "disk full: …"), else undefined.
   *  Reads work; writing resumes by itself once space is freed. */
  readonly readOnly: string | undefined;
  close(): Promise<void>;
}

export interface OpenDbOptions {
  url: string;
  authToken?: string;
  /** Migrations to run (default: the ones embedded in this binary; tests pass others). */
  migrations?: MigrationFiles;
  /** Where to keep the automatic pre-upgrade backups of an embedded database
   *  (default: "backups" beside the database file); the newest 3 are kept. */
  backupDir?: string;
  /** Told about an automatic backup. */
  onBackup?: (path: string) => void;
  /** Most write fns sharing one transaction (bounds latency of the first). */
  maxBatch?: number;
  /** For the read-only mode's messages (disk full, recovered). */
  log?: Logger;
  /** Other processes write this embedded file too (listen.processes > 1): writes are
   *  gathered before the write lock is taken, and it is never held across an event-loop
   *  turn, so the others wait only for our statements and our COMMIT. */
  shared?: boolean;
}

/** Longest wait for the write lock another process holds, and the longest pause between
 *  two tries (the holder's transaction is one group commit: milliseconds). */
const BUSY_WAIT_MS = 10_000;
const MAX_BUSY_DELAY_MS = 4;

const isBusy = (err: unknown): boolean => {
  const e = err as { code?: string; rawCode?: number };
  return e?.code === "SQLITE_BUSY" || (typeof e?.rawCode === "number" && (e.rawCode & 0xff) === 5);
};

/** How often a database opened read-only (disk full) looks for free space again. */
const RECOVER_CHECK_MS = 2_000;

interface Pending {
  fn: (tx: Tx) => Promise<unknown>;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}

/** One open write transaction, local or remote. */
interface WriteTxn {
  execute(stmt: InStatement): Promise<ResultSet>;
  batch(stmts: InStatement[]): Promise<ResultSet[]>;
  commit(): Promise<void>;
  rollback(): Promise<void>;
  /** Embedded: resolves when what was committed is on disk (the WAL fsync, off the event
   *  loop); absent when commit() itself is durable (a remote server). */
  durable?(): Promise<void>;
}

/** Open (creating and migrating as needed) the database at `url`. */
export async function openDb(opts: OpenDbOptions): Promise<Db> {
  const path = filePath(opts.url);
  if (opts.url.startsWith("file:") && !path) throw new Error(`unsupported database URL ${opts.url} (in-memory databases are not supported)`);
  const local = path !== null;
  if (path) mkdirSync(dirname(resolve(path)), { recursive: true });

  let beginTx: () => Promise<WriteTxn>;
  /** The @libsql/client for reads: embedded, made on first use (only tests and drizzle's
   *  rarely used methods want it; a connection costs resident memory). */
  let reader: () => Client;
  let closeReader: () => void;
  let query: (stmt: InStatement) => Promise<ResultSet>;
  let ormClient: Client;
  let closeWriter: () => void;
  let readOnly: string | undefined;
  /** Time spent waiting for the write lock another process held (listen.processes > 1). */
  const lockWaits = { transactions: 0, waits: 0, ms: 0, heldMs: 0, since: 0 };
  let recoverTimer: ReturnType<typeof setInterval> | undefined;
  let wal: WalSync | null = null;
  if (path) {
    const dir = dirname(resolve(path));
    let conn: LocalConn | null = null;
    let readConn: LocalConn;
    /** The write connection and the cached read connection of normal operation. */
    const openWritable = (): { w: LocalConn; r: LocalConn } => {
      const w = openLocal(path, { timeoutMs: 10_000 });
      try {
        w.exec("PRAGMA journal_mode=WAL");
        // NORMAL: COMMIT does not fsync (consistent, not yet durable); the group commit
        // fsyncs the WAL itself off the event loop before resolving (wal-sync.ts), which
        // makes it as durable as FULL. Checkpoints still fsync WAL and database.
        w.exec("PRAGMA synchronous=NORMAL");
        w.exec("PRAGMA foreign_keys=ON");
        // Waits for the write lock happen in beginTx, without blocking the thread.
        w.exec("PRAGMA busy_timeout=0");
        // Reads run synchronously to completion (autocommit), so one connection serves all.
        const r = openLocal(path, { timeoutMs: 10_000 });
        r.exec("PRAGMA query_only=ON");
        return { w, r };
      } catch (err) {
        w.close();
        throw err;
      }
    };
    /** Reads only, on a full disk: a read-only connection when SQLite can still use its
     *  -shm file; else the file opened as immutable (no -shm needed, which SQLite could not
     *  grow: SQLITE_IOERR_SHMSIZE). That happens after a clean close removed -wal and -shm,
     *  so no committed transaction waits in a WAL. */
    const openReadOnly = (): LocalConn => {
      try {
        const r = openLocal(path, { timeoutMs: 1_000, readonly: true });
        try {
          r.exec("PRAGMA query_only=ON");
          r.execute("SELECT 1 FROM sqlite_master LIMIT 1");
          return r;
        } catch (err) {
          r.close();
          throw err;
        }
      } catch (err) {
        opts.log?.warn("database opened as immutable (no room for its -shm file)", { err: (err as Error).message });
        const r = openLocal(`file:${encodeURI(resolve(path))}?immutable=1`, { timeoutMs: 10_000, readonly: true });
        r.exec("PRAGMA query_only=ON");
        r.execute("SELECT 1 FROM sqlite_master LIMIT 1");
        return r;
      }
    };
    const migrateWith = async () => {
      // Migrations through @libsql/client (drizzle's migrator needs it).
      const migrator = createClient({ url: opts.url, concurrency: 1, timeout: 10_000 } as Parameters<typeof createClient>[0]);
      try {
        await migrator.execute("PRAGMA journal_mode=WAL");
        await upgradeSafely(migrator, opts, path);
      } finally {
        migrator.close();
      }
    };
    try {
      // Our own connection for writes: one connection, so PRAGMAs stick and transactions
      // never overlap. A database already at our schema (every start but the first after
      // an install or upgrade) needs no migrator: its connection and drizzle's migrate()
      // would leave ~1 MiB in the heap for the server's life.
      let opened = existsSync(path) ? openWritable() : null;
      if (!opened || !(await schemaCurrent(opened.r, opts.migrations ?? migrationFiles))) {
        opened?.w.close();
        opened?.r.close();
        await migrateWith();
        opened = openWritable();
      }
      ({ w: conn, r: readConn } = opened);
      wal = walSync(resolve(path));
    } catch (err) {
      // A full disk must not keep the mail people already have from them: open for reads.
      const full = isDiskFull(err) || (String((err as { code?: string }).code ?? "").startsWith("SQLITE_IOERR") && freeBytes(dir) < LOW_SPACE_BYTES);
      if (!full) throw err;
      readConn = openReadOnly();
      readOnly = `${DISK_FULL_TEXT} (${dir}, ${Math.floor(freeBytes(dir) / 1024)} KB free): read-only until space is freed`;
      opts.log?.error(`${readOnly}; mail is refused (SMTP 452, IMAP NO [OVERQUOTA]) but can be read`, { err: (err as Error).message });
      recoverTimer = setInterval(() => {
        if (freeBytes(dir) < LOW_SPACE_BYTES) return;
        readConn.close();
        try {
          ({ w: conn, r: readConn } = openWritable());
          wal?.close();
          wal = walSync(resolve(path));
        } catch (e) {
          readConn = openReadOnly();
          opts.log?.warn("disk still full: staying read-only", { err: (e as Error).message });
          return;
        }
        clearInterval(recoverTimer);
        readOnly = undefined;
        opts.log?.info("disk space available again: writes resumed");
        migrateWith().catch((e: unknown) => opts.log?.error("migrations after disk-full recovery failed", { err: (e as Error).message }));
      }, RECOVER_CHECK_MS);
      recoverTimer.unref?.();
    }
    const txn: WriteTxn = {
      execute: async (st) => conn!.execute(st),
      batch: async (stmts) => stmts.map((st) => conn!.execute(st)),
      commit: async () => {
        conn!.exec("COMMIT");
        lockWaits.heldMs += performance.now() - lockWaits.since;
      },
      rollback: async () => {
        if (conn?.inTransaction) conn.exec("ROLLBACK");
      },
      durable: () => wal!.durable(),
    };
    // BEGIN IMMEDIATE takes the write lock up front, so two processes never deadlock
    // upgrading a read to a write. While another process holds it, we retry here rather
    // than in SQLite's busy handler, which would sleep this thread and every session on it.
    beginTx = async () => {
      let t0 = 0;
      for (let delay = 1; ; delay = Math.min(delay * 2, MAX_BUSY_DELAY_MS)) {
        if (!conn || readOnly) throw new DiskFullError();
        try {
          conn.exec("BEGIN IMMEDIATE");
          break;
        } catch (err) {
          if (!isBusy(err)) throw err;
          t0 ||= performance.now();
          if (performance.now() - t0 > BUSY_WAIT_MS) throw err;
          await Bun.sleep(delay);
        }
      }
      lockWaits.transactions++;
      lockWaits.since = performance.now();
      if (t0) {
        lockWaits.waits++;
        lockWaits.ms += performance.now() - t0;
      }
      return txn;
    };
    let client: Client | null = null;
    reader = () => (client ??= createClient({ url: opts.url, concurrency: 8, timeout: 10_000 } as Parameters<typeof createClient>[0]));
    closeReader = () => client?.close();
    query = async (st) => readConn.execute(st);
    // db.orm reads on the same cached connection; anything else goes to the real client.
    // query_only makes a write through db.orm fail at once instead of waiting (busy) on
    // the writer's open transaction while blocking the thread that must finish it.
    ormClient = new Proxy({} as Client, {
      get(_, prop) {
        if (prop === "execute") return async (st: InStatement) => readConn.execute(st);
        if (prop === "batch") return async (stmts: InStatement[]) => stmts.map((st) => readConn.execute(st));
        const target = reader();
        const v = Reflect.get(target, prop) as unknown;
        // methods use private fields: call them on the real client, not the proxy
        return typeof v === "function" ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
    closeWriter = () => {
      clearInterval(recoverTimer);
      if (lockWaits.transactions)
        opts.log?.info("database write lock waits", { transactions: lockWaits.transactions, waits: lockWaits.waits, ms: Math.round(lockWaits.ms), heldMs: Math.round(lockWaits.heldMs) });
      conn?.close();
      readConn.close();
      wal?.close();
    };
  } else {
    // Remote libSQL server: interactive transactions over hrana; one client for all.
    const { createClient: createRemoteClient } = await import("@libsql/client");
    const client = createRemoteClient({ url: opts.url, authToken: opts.authToken });
    await upgradeSafely(client, opts, null);
    beginTx = async () => {
      const t: Transaction = await client.transaction("write");
      return {
        execute: (s) => t.execute(s),
        batch: (stmts) => t.batch(stmts),
        commit: () => t.commit(),
        rollback: async () => t.close(),
      };
    };
    closeWriter = () => {};
    reader = () => client;
    closeReader = () => client.close();
    query = (s) => client.execute(s);
    ormClient = client;
  }
  const orm = drizzle(ormClient, { schema });

  // drizzle bound to whichever transaction is open: one instance, a delegating client.
  let current: WriteTxn | null = null;
  const txClient = {
    execute: (stmt: InStatement) => active().execute(stmt),
    batch: (stmts: InStatement[]) => active().batch(stmts),
  } as unknown as Client;
  function active(): WriteTxn {
    if (!current) throw new Error("write transaction is not open");
    return current;
  }
  const txOrm = drizzle(txClient, { schema });

  const maxBatch = opts.maxBatch ?? 256;
  const shared = local && opts.shared === true;
  const queue: Pending[] = [];
  let running = false;
  /** Committed batches waiting for their WAL fsync. */
  let syncing = 0;
  let closed = false;

  async function runBatch(): Promise<void> {
    if (shared) await new Promise<void>((r) => setImmediate(r));
    const tx = await beginTx();
    current = tx;
    const done: { p: Pending; value: unknown; after: (() => void)[]; undo: (() => void)[] }[] = [];
    let broken: unknown = null;
    /** The batch's first fn failed: it alone is rolled back with the whole transaction. */
    let firstFailed: { p: Pending; err: unknown } | null = null;
    try {
      let n = 0;
      while (n < maxBatch) {
        let p = queue.shift();
        if (!p) {
          if (shared) break;
          // Let I/O callbacks queue more writes before paying for the fsync.
          await new Promise<void>((r) => setImmediate(r));
          p = queue.shift();
          if (!p) break;
        }
        n++;
        // One fn at a time, each savepoint released before the next: one name suffices
        // (and keeps the statement cache small).
        const sp = "w";
        const after: (() => void)[] = [];
        const undo: (() => void)[] = [];
        // The first fn needs no savepoint (two statements less per transaction): if it
        // fails, the transaction holds nothing else and is rolled back whole.
        const first = n === 1;
        if (!first) await tx.execute(`SAVEPOINT ${sp}`);
        try {
          const value = await p.fn({ orm: txOrm, execute: (s) => tx.execute(s), afterCommit: (f) => after.push(f), onRollback: (f) => undo.push(f) });
          if (!first) await tx.execute(`RELEASE ${sp}`);
          done.push({ p, value, after, undo });
        } catch (err) {
          runAll(undo, "onRollback");
          if (first) {
            firstFailed = { p, err };
            break;
          }
          try {
            await tx.execute(`ROLLBACK TO ${sp}`);
            await tx.execute(`RELEASE ${sp}`);
          } catch (e2) {
            // The whole transaction is gone (e.g. SQLITE_FULL): everyone in it fails.
            broken = e2;
            p.reject(err);
            break;
          }
          p.reject(err);
        }
      }
      if (broken) throw broken;
      current = null;
      if (firstFailed) {
        await tx.rollback().catch(() => {});
        firstFailed.p.reject(firstFailed.err);
        return; // the rest of the queue: the next batch (drain)
      }
      await tx.commit();
    } catch (err) {
      current = null;
      await tx.rollback().catch(() => {});
      for (const d of done) {
        runAll(d.undo, "onRollback");
        d.p.reject(err);
      }
      return;
    } finally {
      current = null;
    }
    // Embedded: the writers learn of their commit once the WAL fsync says it is on disk;
    // the next batch does not wait for that (its commit shares or follows the fsync).
    if (tx.durable) {
      syncing++;
      tx.durable()
        .then(
          () => settle(done),
          (err: unknown) => {
            for (const d of done) d.p.reject(err);
          },
        )
        .finally(() => syncing--);
      return;
    }
    settle(done);
  }

  function settle(done: { p: Pending; value: unknown; after: (() => void)[] }[]): void {
    for (const d of done) {
      d.p.resolve(d.value);
      runAll(d.after, "afterCommit");
    }
  }

  function runAll(fns: (() => void)[], what: string): void {
    for (const f of fns) {
      try {
        f();
      } catch (e) {
        console.error(`${what} callback failed`, e);
      }
    }
  }

  async function drain(): Promise<void> {
    if (running) return;
    running = true;
    try {
      while (queue.length) {
        try {
          await runBatch();
        } catch (err) {
          // BEGIN failed (busy, closed): fail what is queued now rather than spin.
          for (const p of queue.splice(0)) p.reject(err);
        }
      }
    } finally {
      running = false;
    }
  }

  return {
    orm,
    get client() {
      return reader();
    },
    query: (s) => (closed ? Promise.reject(new Error("database is closed")) : query(s)),
    local,
    get readOnly() {
      return readOnly;
    },
    write<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
      if (closed) return Promise.reject(new Error("database is closed"));
      return new Promise<T>((resolve, reject) => {
        queue.push({ fn, resolve: resolve as (v: unknown) => void, reject });
        if (!running) void drain();
      });
    },
    async close() {
      if (closed) return;
      closed = true;
      while (running || queue.length || syncing > 0) await new Promise((r) => setTimeout(r, 5));
      closeReader();
      closeWriter();
    },
  };
}

/** Refuse a database from a newer kotakpos; back up an embedded one before migrating it
 *  (DESIGN.md "Upgrades"); then migrate. drizzle runs the pending migrations as one
 *  batch in one transaction, so a failing migration leaves the database as it was. */
async function upgradeSafely(client: Client, opts: OpenDbOptions, path: string | null): Promise<void> {
  const files = opts.migrations ?? migrationFiles;
  const ours = schemaOf(files);
  const state = await dbSchemaState(client);
  if (state.newest > ours.newest) throw new SchemaTooNewError(state, ours);
  if (state.applied > 0 && state.newest < ours.newest && path) {
    const dir = opts.backupDir ?? join(dirname(resolve(path)), "backups");
    const stamp = new Date().toISOString().replace(/[:.]/g, "-");
    const to = join(dir, `pre-upgrade-schema${state.applied}-${stamp}.db`);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    await client.execute({ sql: "VACUUM INTO ?", args: [to] });
    const old = readdirSync(dir)
      .filter((f) => /^pre-upgrade-.*\.db$/.test(f))
      .sort((a, b) => statSync(join(dir, a)).mtimeMs - statSync(join(dir, b)).mtimeMs || a.localeCompare(b));
    for (const f of old.slice(0, -KEEP_UPGRADE_BACKUPS)) rmSync(join(dir, f), { force: true });
    opts.onBackup?.(to);
  }
  await runMigrations(client, files);
}

const KEEP_UPGRADE_BACKUPS = 3;

/** Has the database exactly the schema of these migrations (nothing to migrate)? */
async function schemaCurrent(conn: LocalConn, files: MigrationFiles): Promise<boolean> {
  const state = await dbSchemaState({ execute: async (st: InStatement) => conn.execute(st) } as Client);
  return state.applied > 0 && state.newest === schemaOf(files).newest;
}

/** Runs migrations (default: the embedded ones, core/db/migrations.gen.ts) with drizzle's migrate(). */
async function runMigrations(client: Client, files: MigrationFiles): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "kotakpos-migrations-"));
  try {
    for (const [name, text] of Object.entries(files)) {
      const p = join(dir, name);
      mkdirSync(dirname(p), { recursive: true });
      writeFileSync(p, text);
    }
    await migrate(drizzle(client), { migrationsFolder: dir });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The file of an embedded database URL (`file:…`), or null for memory or a server URL. */
export function filePath(url: string): string | null {
  if (!url.startsWith("file:")) return null;
  const rest = decodeURIComponent(url.slice("file:".length).split("?")[0]!);
  if (rest === ":memory:" || rest === "") return null;
  return rest.startsWith("//") ? rest.replace(/^\/\/(localhost)?/, "") : rest;
}
