// `kotakpos verify-backup SRC`: every file against its manifest checksum, every blob
// against its name (its SHA-256), the database snapshot's own integrity check, and every
// blob the snapshot references present.
import { createClient } from "@libsql/client/sqlite3";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { blobPathIn, fileSha256, readManifest, type Manifest } from "./manifest.ts";

export interface VerifyResult {
  manifest: Manifest;
  problems: string[];
  checkedFiles: number;
  checkedBlobs: number;
}

export async function verifyBackup(dir: string, progress?: (line: string) => void): Promise<VerifyResult> {
  const manifest = readManifest(dir);
  const problems: string[] = [];
  for (const [f, sum] of Object.entries(manifest.files)) {
    const p = join(dir, f);
    if (!existsSync(p)) problems.push(`${f}: missing`);
    else if ((await fileSha256(p)) !== sum) problems.push(`${f}: checksum mismatch (changed or corrupted)`);
  }
  let n = 0;
  for (const id of manifest.blobs) {
    const p = blobPathIn(dir, id);
    if (!existsSync(p)) problems.push(`blob ${id}: missing`);
    else if ((await fileSha256(p)) !== id) problems.push(`blob ${id}: content does not match its checksum (corrupted)`);
    if (++n % 5000 === 0) progress?.(`checked ${n}/${manifest.blobs.length} blobs`);
  }
  const db = join(dir, "kotakpos.db");
  if (existsSync(db) && !problems.some((p) => p.startsWith("kotakpos.db"))) {
    const client = createClient({ url: `file:${db}` });
    try {
      const ic = (await client.execute("PRAGMA integrity_check")).rows.map((r) => String(Object.values(r)[0]));
      if (ic.join() !== "ok") problems.push(`kotakpos.db: integrity check: ${ic.slice(0, 3).join("; ")}`);
      const held = new Set(manifest.blobs);
      for (const r of (await client.execute("SELECT id FROM blobs WHERE refcount > 0")).rows) {
        if (!held.has(String(r.id))) problems.push(`blob ${String(r.id)}: referenced by the database but not in the backup`);
      }
    } catch (e) {
      problems.push(`kotakpos.db: cannot be read (${(e as Error).message})`);
    } finally {
      client.close();
    }
  }
  return { manifest, problems, checkedFiles: Object.keys(manifest.files).length, checkedBlobs: manifest.blobs.length };
}
