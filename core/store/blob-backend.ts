// The blob backend the config asks for: the blobs folder, or S3 (`blobs.url`).
import { readFileSync } from "node:fs";
import type { Config } from "../config.ts";
import { dataPaths } from "../paths.ts";
import { createFsBlobStore, type BlobBackend } from "./blobs.ts";
import { createS3BlobStore } from "./s3-blobs.ts";

export async function openBlobBackend(config: Config, dataDir: string, env: Record<string, string | undefined> = process.env): Promise<BlobBackend> {
  const b = config.blobs;
  if (!b.url) return createFsBlobStore(dataPaths(dataDir, config).blobDir);
  let creds = { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY };
  if (b.credentialsFile) {
    try {
      creds = JSON.parse(readFileSync(b.credentialsFile, "utf8")) as typeof creds;
    } catch (e) {
      throw new Error(`blobs.credentialsFile ${b.credentialsFile}: ${(e as Error).message}`);
    }
  }
  return createS3BlobStore({ url: b.url, endpoint: b.endpoint, region: b.region, ...creds, cacheBytes: b.cacheMiB * 1024 * 1024 });
}
