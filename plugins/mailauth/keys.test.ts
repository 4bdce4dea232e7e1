import { afterAll, beforeAll, expect, test } from "bun:test";
import { createPrivateKey, createPublicKey } from "node:crypto";
import type { Db } from "../../core/db/open.ts";
import { activateRotation, createKeyCache, ensureKeys, listKeys, nextSelector, pruneRetired, stageRotation } from "./keys.ts";
import { tempDb } from "./test-db.ts";

let t: Awaited<ReturnType<typeof tempDb>>;
let db: Db;
beforeAll(async () => {
  t = await tempDb(["example.test"]);
  db = t.db;
});
afterAll(() => t.cleanup());

test("selectors are dated and never reused", () => {
  const now = new Date("2026-11-22T00:00:00Z");
  expect(nextSelector("rsa-sha256", [], now)).toBe("k2026a");
  expect(nextSelector("ed25519-sha256", ["e2026a"], now)).toBe("e2026b");
  const az = "abcdefghijklmnopqrstuvwxyz".split("").map((c) => `k2026${c}`);
  expect(nextSelector("rsa-sha256", az, now)).toBe("k2026aa");
});

test("ensureKeys makes one RSA-2048 and one Ed25519 key, once, even when called concurrently", async () => {
  const [a, b] = await Promise.all([ensureKeys(db, "example.test"), ensureKeys(db, "Example.Test")]);
  const keys = await listKeys(db, "example.test");
  expect(keys.map((k) => [k.algorithm, k.state])).toEqual([
    ["rsa-sha256", "active"],
    ["ed25519-sha256", "active"],
  ]);
  expect(a.length + b.length).toBe(4);
  const year = new Date().getUTCFullYear();
  expect(keys.map((k) => k.selector)).toEqual([`k${year}a`, `e${year}a`]);
  const rsa = createPublicKey(createPrivateKey(keys[0]!.privateKey));
  expect(rsa.asymmetricKeyDetails?.modulusLength).toBe(2048);
  // The p= value of the Ed25519 record is the raw 32-byte key.
  expect(Buffer.from(keys[1]!.publicKey, "base64")).toHaveLength(32);
});

test("rotation: stage (not signing) → activate (old retired) → prune", async () => {
  const cache = createKeyCache(db, 0);
  const before = (await cache.signingKeys("example.test")).map((k) => k.selector);
  const staged = await stageRotation(db, "example.test");
  expect(staged.filter((k) => k.state === "staged")).toHaveLength(2);
  expect((await cache.signingKeys("example.test")).map((k) => k.selector)).toEqual(before);
  const after = await activateRotation(db, "example.test");
  const active = after.filter((k) => k.state === "active").map((k) => k.selector);
  expect(active).toHaveLength(2);
  expect(active).not.toEqual(before);
  expect(
    after
      .filter((k) => k.state === "retired")
      .map((k) => k.selector)
      .sort(),
  ).toEqual([...before].sort());
  expect((await cache.signingKeys("example.test")).map((k) => k.selector)).toEqual(active);
  expect(await pruneRetired(db, "example.test")).toBe(2);
  expect((await listKeys(db, "example.test")).map((k) => k.state)).toEqual(["active", "active"]);
  await expect(activateRotation(db, "example.test")).rejects.toThrow(/no staged/);
});
