import { expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createWalSync } from "./wal-sync.ts";

test("syncs the -wal file beside the database; a missing file is the caller's error, and the next sync reopens", async () => {
  const dir = mkdtempSync(join(tmpdir(), "kotakpos-walsync-"));
  try {
    const db = join(dir, "k.db");
    const w = createWalSync(db);
    await expect(w.sync()).rejects.toThrow(/ENOENT|no such file/i);
    expect(w.count).toBe(0);
    writeFileSync(`${db}-wal`, "frames");
    await w.sync();
    await w.sync();
    expect(w.count).toBe(2);
    w.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
