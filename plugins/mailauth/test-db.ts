// A temp database with local domains, for the unit tests of this folder.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openDb, type Db } from "../../core/db/open.ts";
import { domains } from "../../core/db/schema.ts";

export async function tempDb(localDomains: string[] = []): Promise<{ db: Db; cleanup(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), "kotakpos-mailauth-db-"));
  const db = await openDb({ url: `file:${join(dir, "k.db")}` });
  if (localDomains.length) await db.write((tx) => tx.orm.insert(domains).values(localDomains.map((name) => ({ name, createdAt: Date.now() }))));
  return {
    db,
    async cleanup() {
      await db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
