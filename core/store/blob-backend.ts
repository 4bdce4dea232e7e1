// The blob backend the config asks for: the blobs folder, or S3 (`blobs.url`); during a
// move between the two (`kotakpos migrate-blobs`), `blobs.previous` names the old place,
// read when a blob is not (yet) in the new one.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import type { Config } from "../config.ts";
import { dataPaths } from "../paths.ts";
import { createFsBlobStore, type BlobBackend } from "./blobs.ts";
import { createS3BlobStore } from "./s3-blobs.ts";

/** Where blobs live: "s3://bucket/prefix", "file:/path" or a folder path. */
export type BlobLocation = { kind: "s3"; url: string } | { kind: "fs"; dir: string };

export function parseBlobLocation(spec: string): BlobLocation {
  if (spec.startsWith("s3://")) return { kind: "s3", url: spec };
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(spec) && !spec.startsWith("file:")) throw new Error(`unsupported blob location ${spec} (s3://bucket/prefix, file:/path or a folder)`);
  const dir = spec.startsWith("file:") ? decodeURIComponent(spec.slice(5).replace(/^\/\/(localhost)?/, "")) : spec;
  if (!dir) throw new Error("empty blob folder");
  return { kind: "fs", dir: resolve(dir) };
}

/** The configured location (`blobs.url`, else the folder). */
export function configuredLocation(config: Config, dataDir: string): BlobLocation {
  return config.blobs.url ? { kind: "s3", url: config.blobs.url } : { kind: "fs", dir: dataPaths(dataDir, config).blobDir };
}

/** A backend at a location; S3 takes endpoint, region and credentials from `blobs`. */
export async function openBlobsAt(loc: BlobLocation, config: Config, env: Record<string, string | undefined> = process.env): Promise<BlobBackend> {
  if (loc.kind === "fs") return createFsBlobStore(loc.dir);
  const b = config.blobs;
  let creds = { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY };
  if (b.credentialsFile) {
    try {
      creds = JSON.parse(readFileSync(b.credentialsFile, "utf8")) as typeof creds;
    } catch (e) {
      throw new Error(`blobs.credentialsFile ${b.credentialsFile}: ${(e as Error).message}`);
    }
  }
  return createS3BlobStore({ url: loc.url, endpoint: b.endpoint, region: b.region, ...creds, cacheBytes: b.cacheMiB * 1024 * 1024 });
}

export async function openBlobBackend(config: Config, dataDir: string, env: Record<string, string | undefined> = process.env): Promise<BlobBackend> {
  const primary = await openBlobsAt(configuredLocation(config, dataDir), config, env);
  if (!config.blobs.previous) return primary;
  return withPrevious(primary, await openBlobsAt(parseBlobLocation(config.blobs.previous), config, env));
}

/** Reads fall back to the previous place; writes, lists and GC stay with the new one (the
 *  previous place is left alone: it is removed by hand once migrate-blobs has finished). */
export function withPrevious(primary: BlobBackend, previous: BlobBackend): BlobBackend {
  return {
    ...primary,
    kind: primary.kind,
    async get(id, size) {
      try {
        return await primary.get(id, size);
      } catch (e) {
        if (!(await previous.has(id).catch(() => false))) throw e;
        return previous.get(id, size);
      }
    },
    async has(id) {
      return (await primary.has(id)) || previous.has(id);
    },
    close() {
      primary.close();
      previous.close();
    },
  };
}
