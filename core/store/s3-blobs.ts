// S3 BlobBackend (`[blobs] url = "s3://bucket/prefix"`, DESIGN.md "Storage and
// durability"): content-addressed objects `<prefix>/<ab>/<sha256>` through Bun's built-in
// S3 client. put() resolves once the PUT succeeded — S3 acknowledges a PUT only when the
// object is stored durably — so "250 after durable" keeps its meaning: PUT, then the row
// is committed. Reads go through a small in-memory LRU cache (blobs are immutable).
// Ordering: a GC delete and a later put of the same id (the same content delivered again)
// run one after the other, never interleaved.
import { HEX64, sha256Hex, type BlobBackend } from "./blobs.ts";
import type { StoredBlob } from "./types.ts";

export interface S3BlobOptions {
  /** "s3://bucket" or "s3://bucket/prefix". */
  url: string;
  /** The S3 API endpoint (http(s)://host[:port]); empty: AWS for `region`. */
  endpoint?: string;
  region?: string;
  accessKeyId?: string;
  secretAccessKey?: string;
  /** Bytes of blobs kept in memory for reads (default 64 MiB; 0: none). */
  cacheBytes?: number;
}

export interface S3BlobBackend extends BlobBackend {
  readonly kind: "s3";
  readonly bucket: string;
  readonly prefix: string;
  /** Reads answered from the cache / from S3 (tests, benchmarks). */
  cacheStats(): { hits: number; misses: number; bytes: number };
}

export function parseS3Url(url: string): { bucket: string; prefix: string } {
  const m = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/(.*))?$/.exec(url);
  if (!m) throw new Error(`blobs.url "${url}" is not s3://bucket or s3://bucket/prefix`);
  return { bucket: m[1]!, prefix: (m[2] ?? "").replace(/^\/+|\/+$/g, "") };
}

export function createS3BlobStore(opts: S3BlobOptions): S3BlobBackend {
  const { bucket, prefix } = parseS3Url(opts.url);
  const client = new Bun.S3Client({
    bucket,
    ...(opts.endpoint && { endpoint: opts.endpoint }),
    ...(opts.region && { region: opts.region }),
    ...(opts.accessKeyId && { accessKeyId: opts.accessKeyId }),
    ...(opts.secretAccessKey && { secretAccessKey: opts.secretAccessKey }),
  });
  const keyOf = (id: string): string => {
    if (!HEX64.test(id)) throw new Error(`bad blob id: ${id}`);
    return `${prefix ? prefix + "/" : ""}${id.slice(0, 2)}/${id}`;
  };

  // LRU by insertion order; blobs never change, so no invalidation but deletes.
  const cacheMax = opts.cacheBytes ?? 64 * 1024 * 1024;
  const cache = new Map<string, Uint8Array>();
  let cached = 0;
  let hits = 0;
  let misses = 0;
  const remember = (id: string, data: Uint8Array) => {
    if (data.length > cacheMax / 8) return; // a few big messages must not flush everything
    if (cache.has(id)) return;
    cache.set(id, data);
    cached += data.length;
    while (cached > cacheMax) {
      const [k, v] = cache.entries().next().value!;
      cache.delete(k);
      cached -= v.length;
    }
  };
  const forget = (id: string) => {
    const v = cache.get(id);
    if (v) {
      cache.delete(id);
      cached -= v.length;
    }
  };

  /** Per id, the last operation in flight: each new one starts after it. */
  const chain = new Map<string, Promise<unknown>>();
  const serial = <T>(id: string, op: () => Promise<T>): Promise<T> => {
    const prev = chain.get(id) ?? Promise.resolve();
    const p = prev.catch(() => {}).then(op);
    chain.set(id, p);
    void p
      .catch(() => {})
      .finally(() => {
        if (chain.get(id) === p) chain.delete(id);
      });
    return p;
  };
  let writes = 0;

  return {
    kind: "s3",
    bucket,
    prefix,
    put(data, knownId) {
      const id = knownId ?? sha256Hex(data);
      return serial(id, async (): Promise<StoredBlob> => {
        await client.write(keyOf(id), data);
        writes++;
        return { id, size: data.length };
      });
    },
    async get(id) {
      const hit = cache.get(id);
      if (hit) {
        hits++;
        return hit;
      }
      misses++;
      const data = await client.file(keyOf(id)).bytes();
      remember(id, data);
      return data;
    },
    has: (id) => client.exists(keyOf(id)),
    delete: (id) =>
      serial(id, async () => {
        forget(id);
        await client.delete(keyOf(id));
      }),
    deleteSync(id, writtenBefore) {
      forget(id);
      // Another instance may have stored the same content again since the row was
      // orphaned (it commits a new row): an object written after that is kept.
      void serial(id, async () => {
        if (writtenBefore !== undefined) {
          const st = await client
            .file(keyOf(id))
            .stat()
            .catch(() => null);
          if (st && st.lastModified.getTime() > writtenBefore) return;
        }
        await client.delete(keyOf(id));
      }).catch(() => {
        // left for the orphan scan of the next GC
      });
    },
    async *list() {
      let token: string | undefined;
      const base = prefix ? prefix + "/" : "";
      do {
        const page = await client.list({ prefix: base, ...(token && { continuationToken: token }) });
        for (const o of page.contents ?? []) {
          const id = o.key.slice(o.key.lastIndexOf("/") + 1);
          if (HEX64.test(id)) yield { id, mtimeMs: o.lastModified ? Date.parse(String(o.lastModified)) : 0 };
        }
        token = page.isTruncated ? page.nextContinuationToken : undefined;
      } while (token);
    },
    cleanTemp: async () => 0,
    writeStats: () => ({ batches: writes, blobs: writes }),
    cacheStats: () => ({ hits, misses, bytes: cached }),
    close() {
      cache.clear();
      cached = 0;
    },
  };
}
