// `kotakpos restore SRC --data DIR`: a verified backup into a new, empty data directory.
// Blobs are hard-linked when SRC is on the same file system (they are immutable: the
// store never writes into a blob file, GC only unlinks), copied otherwise.
import { copyFileSync, cpSync, existsSync, linkSync, mkdirSync, readdirSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { blobPathIn } from "./manifest.ts";
import { BackupError } from "./backup.ts";
import { verifyBackup } from "./verify.ts";

export interface RestoreResult {
  messages: number;
  blobs: number;
  ms: number;
}

export async function restore(src: string, dataDir: string, progress?: (line: string) => void): Promise<RestoreResult> {
  const started = performance.now();
  const dir = resolve(dataDir);
  if (existsSync(dir) && readdirSync(dir).length > 0) throw new BackupError(`${dir} is not empty: restore into a new data directory`);
  const { manifest, problems } = await verifyBackup(src, progress);
  if (problems.length) throw new BackupError(`the backup does not verify (${problems.length} problem(s)), nothing restored: ${problems.slice(0, 3).join("; ")}`);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  for (const f of Object.keys(manifest.files)) {
    mkdirSync(dirname(join(dir, f)), { recursive: true });
    copyFileSync(join(src, f), join(dir, f));
  }
  if (existsSync(join(src, "plugins"))) cpSync(join(src, "plugins"), join(dir, "plugins"), { recursive: true });
  const blobDir = join(dir, "blobs");
  mkdirSync(blobDir, { recursive: true });
  const link = statSync(src).dev === statSync(dir).dev;
  for (const id of manifest.blobs) {
    const to = join(blobDir, id.slice(0, 2), id);
    mkdirSync(dirname(to), { recursive: true });
    if (link) linkSync(blobPathIn(src, id), to);
    else copyFileSync(blobPathIn(src, id), to);
  }
  return { messages: manifest.counts.messages ?? 0, blobs: manifest.blobs.length, ms: performance.now() - started };
}
