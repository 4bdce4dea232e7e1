import { afterAll, beforeAll, expect, test } from "bun:test";
import { sha256Hex } from "./blobs.ts";
import { createS3BlobStore, parseS3Url, type S3BlobBackend } from "./s3-blobs.ts";
import { startS3, type TestS3 } from "../../tests/helpers/s3.ts";

let s3: TestS3;
let bs: S3BlobBackend;
beforeAll(async () => {
  s3 = await startS3("unit");
  bs = createS3BlobStore({ url: "s3://unit/p", endpoint: s3.endpoint, region: "us-east-1", accessKeyId: "S3RVER", secretAccessKey: "S3RVER", cacheBytes: 8 * 1024 });
});
afterAll(() => s3.cleanup());

test("urls", () => {
  expect(parseS3Url("s3://mail")).toEqual({ bucket: "mail", prefix: "" });
  expect(parseS3Url("s3://mail/a/b/")).toEqual({ bucket: "mail", prefix: "a/b" });
  expect(() => parseS3Url("http://mail")).toThrow("is not s3://bucket");
});

test("put, get (then from the cache), has, list; a delete and a later put of the same id stay in order", async () => {
  const data = new TextEncoder().encode("hello s3");
  const id = sha256Hex(data);
  expect(await bs.put(data)).toEqual({ id, size: data.length });
  expect(await s3.keys("p/")).toEqual([`p/${id.slice(0, 2)}/${id}`]);
  expect(new TextDecoder().decode(await bs.get(id))).toBe("hello s3");
  const before = bs.cacheStats();
  await bs.get(id);
  expect(bs.cacheStats().hits).toBe(before.hits + 1);
  expect(await bs.has(id)).toBe(true);
  const listed: string[] = [];
  for await (const b of bs.list()) listed.push(b.id);
  expect(listed).toEqual([id]);
  // GC's delete, then the same content delivered again at once: the object must remain
  bs.deleteSync(id);
  await bs.put(data);
  expect(await bs.has(id)).toBe(true);
  await bs.delete(id);
  expect(await bs.has(id)).toBe(false);
  await expect(bs.get(id)).rejects.toThrow();
});

test("the read cache stays under its cap", async () => {
  for (let i = 0; i < 20; i++) {
    const d = new TextEncoder().encode(`blob ${i} `.repeat(80));
    const { id } = await bs.put(d);
    await bs.get(id);
  }
  expect(bs.cacheStats().bytes).toBeLessThanOrEqual(8 * 1024);
});
