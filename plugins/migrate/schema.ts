// The migrate plugin's own table: what was copied from which source, so a second run
// (or one after an interruption) fetches only what is new. Written in the same
// transaction as the message rows (Store.appendBatch's inTx). Migrated with the core's
// tables (core/db/drizzle.config.ts).
import { index, integer, primaryKey, sqliteTable, text } from "drizzle-orm/sqlite-core";
import type { Db, Tx } from "../../core/db/open.ts";

export const migrateCopied = sqliteTable(
  "migrate_copied",
  {
    accountId: integer("account_id").notNull(),
    source: text("source").notNull(),
    folder: text("folder").notNull(),
    uidvalidity: integer("uidvalidity").notNull(),
    uid: integer("uid").notNull(),
    messageId: text("message_id").notNull(),
  },
  (t) => [primaryKey({ columns: [t.accountId, t.source, t.folder, t.uidvalidity, t.uid] }), index("migrate_copied_msgid").on(t.accountId, t.source, t.messageId)],
);

export interface CopiedKey {
  folder: string;
  uidvalidity: number;
  uid: number;
  messageId: string;
}

export async function rememberCopied(tx: Tx, accountId: number, source: string, keys: CopiedKey[]): Promise<void> {
  await tx.execute({
    sql: `INSERT OR IGNORE INTO migrate_copied(account_id, source, folder, uidvalidity, uid, message_id)
          SELECT ?, ?, json_extract(value, '$[0]'), json_extract(value, '$[1]'), json_extract(value, '$[2]'), json_extract(value, '$[3]') FROM json_each(?)`,
    args: [accountId, source, JSON.stringify(keys.map((k) => [k.folder, k.uidvalidity, k.uid, k.messageId]))],
  });
}

/** UIDs of a source folder copied under this UIDVALIDITY. */
export async function copiedUids(db: Db, accountId: number, source: string, folder: string, uidvalidity: number): Promise<Set<number>> {
  const r = await db.query({ sql: "SELECT uid FROM migrate_copied WHERE account_id = ? AND source = ? AND folder = ? AND uidvalidity = ?", args: [accountId, source, folder, uidvalidity] });
  return new Set(r.rows.map((x) => Number(x.uid)));
}

/** Message-IDs copied from this source: in one folder (its UIDVALIDITY changed), or in any. */
export async function copiedMessageIds(db: Db, accountId: number, source: string, folder?: string): Promise<Set<string>> {
  const r =
    folder === undefined
      ? await db.query({ sql: "SELECT DISTINCT message_id FROM migrate_copied WHERE account_id = ? AND source = ? AND message_id <> ''", args: [accountId, source] })
      : await db.query({ sql: "SELECT DISTINCT message_id FROM migrate_copied WHERE account_id = ? AND source = ? AND folder = ? AND message_id <> ''", args: [accountId, source, folder] });
  return new Set(r.rows.map((x) => String(x.message_id)));
}
