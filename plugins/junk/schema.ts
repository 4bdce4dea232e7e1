// Tables owned by plugins/junk (migrated with the core's: core/db/drizzle.config.ts). Per
// account: token counts, message totals, what was learned from each message (so a move
// back and forth retrains, not double counts), sender reputation and the address book of
// recipients the user has written to.
import { integer, primaryKey, sqliteTable, text } from "drizzle-orm/sqlite-core";

export const junkTokens = sqliteTable(
  "junk_tokens",
  {
    accountId: integer("account_id").notNull(),
    token: text("token").notNull(),
    spam: integer("spam").notNull(),
    ham: integer("ham").notNull(),
  },
  (t) => [primaryKey({ columns: [t.accountId, t.token] })],
);

export const junkTotals = sqliteTable("junk_totals", {
  accountId: integer("account_id").primaryKey(),
  spam: integer("spam").notNull(),
  ham: integer("ham").notNull(),
});

/** state: 'junk' = filed into Junk at delivery (not learned), 'spam' / 'ham' = learned as. */
export const junkMessages = sqliteTable(
  "junk_messages",
  {
    accountId: integer("account_id").notNull(),
    blobId: text("blob_id").notNull(),
    state: text("state").notNull(),
    at: integer("at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.accountId, t.blobId] })],
);

/** Sender reputation: DMARC-aligned sender domains (reputation.ts) kept / junked. */
export const junkSenders = sqliteTable(
  "junk_senders",
  {
    accountId: integer("account_id").notNull(),
    domain: text("domain").notNull(),
    ham: integer("ham").notNull(),
    spam: integer("spam").notNull(),
  },
  (t) => [primaryKey({ columns: [t.accountId, t.domain] })],
);

export const junkContacts = sqliteTable(
  "junk_contacts",
  {
    accountId: integer("account_id").notNull(),
    address: text("address").notNull(),
    at: integer("at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.accountId, t.address] })],
);
