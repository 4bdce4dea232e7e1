// Tables owned by plugins/junk, created by the plugin at setup (IF NOT EXISTS), so the
// core's migrations know nothing of them. Per account: token counts, message totals,
// what was learned from each message (so a move back and forth retrains, not double
// counts) and the address book of recipients the user has written to.
import type { Db } from "../../core/db/open.ts";

export const JUNK_DDL = [
  `CREATE TABLE IF NOT EXISTS junk_tokens (
     account_id INTEGER NOT NULL, token TEXT NOT NULL, spam INTEGER NOT NULL, ham INTEGER NOT NULL,
     PRIMARY KEY (account_id, token)) WITHOUT ROWID`,
  `CREATE TABLE IF NOT EXISTS junk_totals (
     account_id INTEGER PRIMARY KEY, spam INTEGER NOT NULL, ham INTEGER NOT NULL)`,
  // state: 'junk' = filed into Junk at delivery (not learned), 'spam' / 'ham' = learned as.
  `CREATE TABLE IF NOT EXISTS junk_messages (
     account_id INTEGER NOT NULL, blob_id TEXT NOT NULL, state TEXT NOT NULL, at INTEGER NOT NULL,
     PRIMARY KEY (account_id, blob_id)) WITHOUT ROWID`,
  // Sender reputation: DMARC-aligned sender domains (reputation.ts) kept / junked.
  `CREATE TABLE IF NOT EXISTS junk_senders (
     account_id INTEGER NOT NULL, domain TEXT NOT NULL, ham INTEGER NOT NULL, spam INTEGER NOT NULL,
     PRIMARY KEY (account_id, domain)) WITHOUT ROWID`,
  `CREATE TABLE IF NOT EXISTS junk_contacts (
     account_id INTEGER NOT NULL, address TEXT NOT NULL, at INTEGER NOT NULL,
     PRIMARY KEY (account_id, address)) WITHOUT ROWID`,
];

const TABLES = ["junk_tokens", "junk_totals", "junk_messages", "junk_senders", "junk_contacts"];

/** Creates the tables when missing. A read first: a server started read-only (full disk)
 *  with the tables in place must not need a write. */
export async function ensureJunkSchema(db: Db): Promise<void> {
  const r = await db.query({ sql: "SELECT count(*) AS n FROM sqlite_master WHERE type = 'table' AND name IN (SELECT value FROM json_each(?))", args: [JSON.stringify(TABLES)] });
  if (Number(r.rows[0]?.n) === TABLES.length) return;
  await db.write(async (tx) => {
    for (const sql of JUNK_DDL) await tx.execute(sql);
  });
}
