// A backup's manifest.json: what was backed up (version, schema, counts) and how to check
// it (SHA-256 of every file; a blob's name is its SHA-256, so blobs check themselves).
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import * as v from "valibot";

export const MANIFEST = "manifest.json";

const ManifestSchema = v.object({
  format: v.literal(1),
  kotakpos: v.string(),
  schema: v.object({ applied: v.number(), binary: v.number(), tag: v.string() }),
  created: v.string(),
  source: v.string(),
  counts: v.record(v.string(), v.number()),
  blobBytes: v.number(),
  /** Path relative to the backup → SHA-256 hex. */
  files: v.record(v.string(), v.pipe(v.string(), v.regex(/^[0-9a-f]{64}$/))),
  /** Blob ids (SHA-256 hex) held under blobs/. */
  blobs: v.array(v.pipe(v.string(), v.regex(/^[0-9a-f]{64}$/))),
  /** The backup this one took unchanged blobs from (relative path), if incremental. */
  previous: v.optional(v.string()),
});
export type Manifest = v.InferOutput<typeof ManifestSchema>;

export class ManifestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ManifestError";
  }
}

export function readManifest(dir: string): Manifest {
  const p = join(dir, MANIFEST);
  if (!existsSync(p)) throw new ManifestError(`${dir} is not a kotakpos backup (no ${MANIFEST})`);
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(p, "utf8"));
  } catch (e) {
    throw new ManifestError(`${p} is not valid JSON: ${(e as Error).message}`);
  }
  const r = v.safeParse(ManifestSchema, json);
  if (!r.success) throw new ManifestError(`${p} is not a kotakpos manifest (${r.issues[0].message} at ${r.issues[0].path?.map((x) => x.key).join(".") ?? "top"})`);
  return r.output;
}

export const blobPathIn = (backupDir: string, id: string): string => join(backupDir, "blobs", id.slice(0, 2), id);

/** SHA-256 of a file, streamed (blobs can be 50 MB). */
export async function fileSha256(path: string): Promise<string> {
  const h = new Bun.CryptoHasher("sha256");
  for await (const chunk of Bun.file(path).stream()) h.update(chunk);
  return h.digest("hex");
}
