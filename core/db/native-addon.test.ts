import { afterAll, expect, test } from "bun:test";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { addonCacheDir, unpackAddon } from "./native-addon.ts";

const tmp = mkdtempSync(join(tmpdir(), "kotakpos-addon-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const bytes = new Uint8Array(10_000).map((_, i) => i % 251);
const gz = join(tmp, "addon.node.gz");
writeFileSync(gz, Bun.gzipSync(bytes));

test("unpacks once into a private directory; a file of the wrong size is written again", () => {
  const dir = addonCacheDir(join(tmp, "a"));
  expect(statSync(dir).mode & 0o777).toBe(0o700);
  const file = unpackAddon(gz, "abc", bytes.byteLength, dir);
  expect(file).toBe(join(dir, "libsql-abc.node"));
  expect(new Uint8Array(readFileSync(file))).toEqual(bytes);
  const mtime = statSync(file).mtimeMs;
  expect(unpackAddon(gz, "abc", bytes.byteLength, dir)).toBe(file);
  expect(statSync(file).mtimeMs).toBe(mtime);
  writeFileSync(file, "truncated");
  unpackAddon(gz, "abc", bytes.byteLength, dir);
  expect(new Uint8Array(readFileSync(file))).toEqual(bytes);
});

test("refuses a cache directory others can write, and bytes of an unexpected size", () => {
  const base = join(tmp, "b");
  mkdirSync(join(base, `kotakpos-${process.getuid!()}`), { recursive: true });
  chmodSync(join(base, `kotakpos-${process.getuid!()}`), 0o777);
  expect(() => addonCacheDir(base)).toThrow(/not a private directory/);
  expect(() => unpackAddon(gz, "def", 5, addonCacheDir(join(tmp, "c")))).toThrow(/expected 5/);
});
