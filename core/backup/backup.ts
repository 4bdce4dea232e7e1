// `kotakpos backup DEST`: a consistent copy of a data directory that a new server can be
// started from. The database is snapshotted with SQLite's `VACUUM INTO` (one read
// transaction: consistent even while the server writes, WAL makes concurrent readers
// safe), then exactly the blobs that snapshot references are added — immutable and
// content-addressed, so copying them afterwards cannot tear. Blobs are hard-linked when
// DEST is on the same file system (a backup then costs no space for mail), copied
// otherwise. `incremental` takes blobs the previous backup already holds from it.
import { createClient } from "@libsql/client/sqlite3";
import { chmodSync, copyFileSync, cpSync, existsSync, linkSync, mkdirSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { blobPathIn, fileSha256, MANIFEST, readManifest, type Manifest } from "./manifest.ts";
import { embeddedSchema } from "../db/schema-version.ts";
import { filePath } from "../db/open.ts";

export interface BackupOptions {
  /** The data directory of the server. */
  dataDir: string;
  /** The database URL (file: only — a libSQL server is backed up by its own tools). */
  dbUrl: string;
  /** The blob folder. */
  blobDir: string;
  /** The config file, copied as kotakpos.toml. */
  configFile?: string;
  dest: string;
  /** Take blobs the previous backup holds from it (that backup, or the newest sibling of DEST). */
  incremental?: boolean | string;
  version: string;
  /** Progress lines. */
  progress?: (line: string) => void;
}

export interface BackupResult {
  manifest: Manifest;
  /** Blobs written (copied or linked) from the live store / taken from the previous backup. */
  blobsFromStore: number;
  blobsFromPrevious: number;
  linked: boolean;
  ms: number;
}

/** Files of the data directory that belong in a backup besides db and blobs. */
const DATA_FILES = ["admin.token", "setup.token"];

export class BackupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "BackupError";
  }
}

/** Newest backup beside `dest` (by its manifest's time), for --incremental. */
export function previousBackup(dest: string): string | null {
  const parent = dirname(resolve(dest));
  let best: { dir: string; at: string } | null = null;
  for (const name of existsSync(parent) ? readdirSync(parent) : []) {
    const dir = join(parent, name);
    if (dir === resolve(dest) || !existsSync(join(dir, MANIFEST))) continue;
    try {
      const m = readManifest(dir);
      if (!best || m.created > best.at) best = { dir, at: m.created };
    } catch {
      // not a backup we can read: ignore
    }
  }
  return best?.dir ?? null;
}

function linkOrCopy(src: string, dst: string, tryLink: boolean): boolean {
  if (tryLink) {
    try {
      linkSync(src, dst);
      return true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EXDEV" && (e as NodeJS.ErrnoException).code !== "EPERM") throw e;
    }
  }
  copyFileSync(src, dst);
  return false;
}

export async function backup(opts: BackupOptions): Promise<BackupResult> {
  const started = performance.now();
  const dbPath = filePath(opts.dbUrl);
  if (!dbPath) throw new BackupError(`the database is a libSQL server (${opts.dbUrl}): back it up with the server's own tools; kotakpos backup covers the embedded database`);
  if (!existsSync(dbPath)) throw new BackupError(`no database at ${dbPath}`);
  const dest = resolve(opts.dest);
  if (existsSync(dest) && readdirSync(dest).length > 0) throw new BackupError(`${dest} is not empty: back up into a new directory`);
  const prev = opts.incremental ? (typeof opts.incremental === "string" ? resolve(opts.incremental) : previousBackup(dest)) : null;
  if (opts.incremental && !prev) throw new BackupError(`--incremental: no earlier backup found beside ${dest}`);
  const prevManifest = prev ? readManifest(prev) : null;
  mkdirSync(join(dest, "blobs"), { recursive: true });

  // 1. The database: one consistent snapshot.
  const snapshot = join(dest, "kotakpos.db");
  const client = createClient({ url: `file:${dbPath}` });
  try {
    await client.execute({ sql: "VACUUM INTO ?", args: [snapshot] });
  } finally {
    client.close();
  }
  // 2. What the snapshot references, and its counts (from the snapshot itself).
  const snap = createClient({ url: `file:${snapshot}` });
  let blobIds: { id: string; size: number }[];
  const counts: Record<string, number> = {};
  let schemaApplied = 0;
  try {
    blobIds = (await snap.execute("SELECT id, size FROM blobs WHERE refcount > 0 ORDER BY id")).rows.map((r) => ({ id: String(r.id), size: Number(r.size) }));
    for (const t of ["domains", "accounts", "mailboxes", "messages", "spool"]) counts[t] = Number((await snap.execute(`SELECT count(*) AS n FROM ${t}`)).rows[0]!.n);
    schemaApplied = Number((await snap.execute("SELECT count(*) AS n FROM __drizzle_migrations")).rows[0]!.n);
  } finally {
    snap.close();
  }
  counts.blobs = blobIds.length;
  opts.progress?.(`database snapshot: ${counts.messages} messages, ${blobIds.length} blobs to add`);

  // 3. Blobs: from the previous backup when it has them, else from the store.
  const sameFs = statSync(dest).dev === statSync(opts.blobDir).dev;
  const prevBlobs = new Set(prevManifest?.blobs ?? []);
  let fromStore = 0;
  let fromPrev = 0;
  let linked = false;
  let bytes = 0;
  const made = new Set<string>();
  for (const { id, size } of blobIds) {
    const dst = blobPathIn(dest, id);
    const sub = dirname(dst);
    if (!made.has(sub)) {
      mkdirSync(sub, { recursive: true });
      made.add(sub);
    }
    if (prev && prevBlobs.has(id) && existsSync(blobPathIn(prev, id))) {
      linked = linkOrCopy(blobPathIn(prev, id), dst, statSync(prev).dev === statSync(dest).dev) || linked;
      fromPrev++;
    } else {
      const src = [join(opts.blobDir, id.slice(0, 2), id), join(opts.blobDir, id.slice(0, 2), id.slice(2, 4), id)].find(existsSync);
      if (!src) throw new BackupError(`blob ${id} is referenced by the database but missing from ${opts.blobDir}`);
      linked = linkOrCopy(src, dst, sameFs) || linked;
      fromStore++;
    }
    bytes += size;
  }

  // 4. Config and the data directory's secrets.
  const files: Record<string, string> = { "kotakpos.db": await fileSha256(snapshot) };
  if (opts.configFile && existsSync(opts.configFile)) {
    copyFileSync(opts.configFile, join(dest, "kotakpos.toml"));
    files["kotakpos.toml"] = await fileSha256(join(dest, "kotakpos.toml"));
  }
  for (const f of DATA_FILES) {
    const src = join(opts.dataDir, f);
    if (existsSync(src)) {
      copyFileSync(src, join(dest, f));
      files[f] = await fileSha256(join(dest, f));
    }
  }
  // Extra plugins are part of the installation.
  const pluginDir = join(opts.dataDir, "plugins");
  if (existsSync(pluginDir)) {
    cpSync(pluginDir, join(dest, "plugins"), { recursive: true });
    for (const f of readdirSync(join(dest, "plugins"), { recursive: true, encoding: "utf8" })) {
      const p = join(dest, "plugins", f);
      if (statSync(p).isFile()) files[join("plugins", f)] = await fileSha256(p);
    }
  }
  const manifest: Manifest = {
    format: 1,
    kotakpos: opts.version,
    schema: { applied: schemaApplied, binary: embeddedSchema().count, tag: embeddedSchema().tag },
    created: new Date().toISOString(),
    source: opts.dataDir,
    counts,
    blobBytes: bytes,
    files,
    blobs: blobIds.map((b) => b.id),
    ...(prev && { previous: relative(dest, prev) }),
  };
  writeFileSync(join(dest, MANIFEST), JSON.stringify(manifest, null, 1) + "\n", { mode: 0o600 });
  // A backup holds secrets (admin token, DKIM and TLS keys in the database).
  for (const f of Object.keys(files)) chmodSync(join(dest, f), 0o600);
  return { manifest, blobsFromStore: fromStore, blobsFromPrevious: fromPrev, linked, ms: performance.now() - started };
}
