// A full disk, in plain words: the errors it shows up as (ENOSPC from the blob writer,
// SQLITE_FULL, an SQLITE_IOERR when SQLite cannot even grow its shared-memory file) and the
// free space of the data directory. Protocols map it to their "storage full, try later"
// answers (SMTP 452 4.3.1, IMAP NO [OVERQUOTA]); writes resume once space is freed.
import { statfsSync } from "node:fs";

export const DISK_FULL_TEXT = "disk full: no space left on the data directory's disk";

/** Raised by the database in read-only mode (started on a full disk). */
export class DiskFullError extends Error {
  readonly code = "DISK_FULL";
  constructor(detail = "writes are refused until space is freed") {
    super(`${DISK_FULL_TEXT}; ${detail}`);
    this.name = "DiskFullError";
  }
}

/** True for an error caused by a full disk, however it is wrapped. */
export function isDiskFull(err: unknown): boolean {
  if (err instanceof DiskFullError) return true;
  const e = err as { code?: string; rawCode?: number; message?: string; cause?: unknown } | null;
  if (!e || typeof e !== "object") return false;
  if (e.code === "ENOSPC" || e.code === "SQLITE_FULL" || e.code === "DISK_FULL" || e.rawCode === 13) return true;
  if (/ENOSPC|SQLITE_FULL|database or disk is full|no space left on device/i.test(e.message ?? "")) return true;
  return e.cause !== undefined && e.cause !== err && isDiskFull(e.cause);
}

/** Bytes available to us on the file system holding `path` (Infinity when unknown). */
export function freeBytes(path: string): number {
  try {
    const s = statfsSync(path);
    return Number(s.bavail) * Number(s.bsize);
  } catch {
    return Infinity;
  }
}

/** Below this much free space a write failure is taken for a full disk. */
export const LOW_SPACE_BYTES = 1024 * 1024;
