// The libSQL native addon in the compiled binary (scripts/build.ts embeds it gzipped and
// routes libsql's `require` of it here). Bun's own handling of an embedded `.node` copies
// it to /tmp on every start, reading all 9.7 MB through the executable's mapping, and those
// pages then stay in the server's RSS. Here it is unpacked once into a private cache
// directory and loaded from there, so a later start reads nothing of it.
import { gunzipSync } from "bun";
import { closeSync, existsSync, lstatSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** `$TMPDIR/kotakpos-<uid>`: created 0700; refused unless it is a directory of this user
 *  that nobody else can write (a library is loaded from it). */
export function addonCacheDir(base = tmpdir()): string {
  const uid = process.getuid?.() ?? 0;
  const dir = join(base, `kotakpos-${uid}`);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const st = lstatSync(dir);
  if (!st.isDirectory() || st.uid !== uid || (st.mode & 0o022) !== 0) {
    throw new Error(`${dir}: not a private directory of this user; cannot unpack the database addon there (set TMPDIR to another place)`);
  }
  return dir;
}

const PAGE = 4096;

/** The unpacked addon's path: `<cache>/libsql-<id>.node`, written (atomically) when missing
 *  or of another size. `id` names the exact bytes (a hash made at build time). */
export function unpackAddon(gzPath: string, id: string, size: number, dir = addonCacheDir()): string {
  const file = join(dir, `libsql-${id}.node`);
  if (existsSync(file) && statSync(file).size === size) return file;
  const bytes = gunzipSync(readFileSync(gzPath));
  if (bytes.byteLength !== size) throw new Error(`the embedded database addon unpacked to ${bytes.byteLength} bytes, expected ${size}`);
  const part = `${file}.${process.pid}.part`;
  try {
    const fd = openSync(part, "w", 0o700);
    try {
      // Page by page: one large write leaves the file in large page-cache folios, and the
      // loader's mapping then faults whole folios in (8.3 instead of 4.8 MB resident).
      for (let at = 0; at < bytes.byteLength; at += PAGE) writeSync(fd, bytes, at, Math.min(PAGE, bytes.byteLength - at));
    } finally {
      closeSync(fd);
    }
    renameSync(part, file);
  } finally {
    rmSync(part, { force: true });
  }
  return file;
}

/** Load the embedded addon (what `require("@libsql/<target>")` returns). */
export function loadEmbeddedAddon(gzPath: string, id: string, size: number): unknown {
  const mod = { exports: {} as unknown };
  try {
    process.dlopen(mod, unpackAddon(gzPath, id, size));
  } catch (err) {
    // Nothing works without the database: say where, and what to change.
    throw new Error(`cannot load the database library (libSQL) from ${tmpdir()}: ${(err as Error).message}; set TMPDIR to a writable directory that allows executables`);
  }
  return mod.exports;
}
