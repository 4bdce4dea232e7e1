// An S3 API server for tests: npm s3rver (an implementation others wrote) on 127.0.0.1,
// one bucket, files in a temp dir. It accepts any credentials.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import S3rver from "s3rver";

export interface TestS3 {
  endpoint: string;
  bucket: string;
  port: number;
  /** Objects under a prefix (keys). */
  keys(prefix?: string): Promise<string[]>;
  stop(): Promise<void>;
  /** Start again on the same port after stop() (an outage and its end). */
  restart(): Promise<void>;
  cleanup(): Promise<void>;
}

export async function startS3(bucket = "mail"): Promise<TestS3> {
  const dir = mkdtempSync(join(tmpdir(), "kotakpos-s3-"));
  let server = new S3rver({ port: 0, address: "127.0.0.1", silent: true, directory: dir, configureBuckets: [{ name: bucket, configs: [] }] });
  const { port } = (await server.run()) as { port: number };
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new Bun.S3Client({ endpoint, bucket, accessKeyId: "S3RVER", secretAccessKey: "S3RVER", region: "us-east-1" });
  let running = true;
  return {
    endpoint,
    bucket,
    port,
    async keys(prefix = "") {
      const out: string[] = [];
      let token: string | undefined;
      do {
        const page = await client.list({ prefix, ...(token && { continuationToken: token }) });
        for (const o of page.contents ?? []) out.push(o.key);
        token = page.isTruncated ? page.nextContinuationToken : undefined;
      } while (token);
      return out;
    },
    async stop() {
      if (running) await server.close();
      running = false;
    },
    async restart() {
      server = new S3rver({ port, address: "127.0.0.1", silent: true, directory: dir, configureBuckets: [{ name: bucket, configs: [] }] });
      await server.run();
      running = true;
    },
    async cleanup() {
      if (running) await server.close();
      running = false;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
