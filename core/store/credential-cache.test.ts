import { expect, test } from "bun:test";
import { createCredentialCache } from "./credential-cache.ts";

test("remembers a verified login until it expires; a new password hash or another password misses", () => {
  let t = 1000;
  const c = createCredentialCache({ ttlMs: 100, maxEntries: 2, now: () => t });
  c.remember("a@x.test", "$hash1", "pw");
  expect(c.has("a@x.test", "$hash1", "pw")).toBe(true);
  expect(c.has("a@x.test", "$hash1", "pw2")).toBe(false);
  expect(c.has("a@x.test", "$hash2", "pw")).toBe(false); // password changed
  expect(c.has("b@x.test", "$hash1", "pw")).toBe(false);
  t += 100;
  expect(c.has("a@x.test", "$hash1", "pw")).toBe(false);
  expect(c.size).toBe(0);
  // bounded: the oldest goes first
  c.remember("a@x.test", "h", "1");
  c.remember("b@x.test", "h", "2");
  c.remember("c@x.test", "h", "3");
  expect(c.size).toBe(2);
  expect(c.has("a@x.test", "h", "1")).toBe(false);
  expect(c.has("c@x.test", "h", "3")).toBe(true);
});
