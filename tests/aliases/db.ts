// A throwaway database with domains, users and mailboxes for the aliases tests, and the
// Store over it (the plugin reads accounts and mailboxes through it).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openDb, type Db } from "../../core/db/open.ts";
import { accounts, domains, mailboxes } from "../../core/db/schema.ts";
import { createLogger } from "../../core/log.ts";
import { aliasDomains } from "../../plugins/aliases/schema.ts";
import { createStore } from "../../core/store/index.ts";
import type { Store } from "../../core/store/types.ts";

export interface TestDb {
  db: Db;
  store: Store;
  domain(name: string, opts?: { aliasOf?: string; catchAll?: string }): Promise<number>;
  user(address: string, opts?: { disabled?: boolean; folders?: string[] }): Promise<number>;
  close(): Promise<void>;
}

export async function testDb(): Promise<TestDb> {
  const dir = mkdtempSync(join(tmpdir(), "kotakpos-aliases-"));
  const db = await openDb({ url: `file:${join(dir, "t.db")}` });
  const store = await createStore({ db, blobDir: join(dir, "blobs"), log: createLogger("error"), gc: { intervalMs: 0 } });
  const ids = new Map<string, number>();
  let uidv = 1;
  return {
    db,
    store,
    async domain(name, opts = {}) {
      const aliasOf = opts.aliasOf ? ids.get(opts.aliasOf) : null;
      const [r] = await db.write((tx) => tx.orm.insert(domains).values({ name, createdAt: Date.now() }).returning({ id: domains.id }));
      if (aliasOf || opts.catchAll) await db.write((tx) => tx.orm.insert(aliasDomains).values({ domainId: r!.id, aliasOf, catchAll: opts.catchAll ?? null }));
      ids.set(name, r!.id);
      return r!.id;
    },
    async user(address, opts = {}) {
      const d = address.slice(address.lastIndexOf("@") + 1);
      const [r] = await db.write((tx) =>
        tx.orm
          .insert(accounts)
          .values({ address, domainId: ids.get(d)!, passwordHash: "x", disabled: opts.disabled ?? false, createdAt: Date.now() })
          .returning({ id: accounts.id }),
      );
      for (const name of ["INBOX", ...(opts.folders ?? [])]) await db.write((tx) => tx.orm.insert(mailboxes).values({ accountId: r!.id, name, uidvalidity: uidv++ }));
      return r!.id;
    },
    async close() {
      await store.close();
      await db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
