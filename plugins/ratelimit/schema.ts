// The ratelimit plugin's tables (migrations generated with the core's: npm run db:generate).
// Counters survive a restart: per key and minute a count (a sliding window is the sum of
// its last minutes); keys with an expiry (bans, holds, "alerted"); and per account the
// recipients it wrote to (burst check: "new" ones) and the envelope senders it used (a
// hold holds the spool rows with those senders).
import { index, integer, primaryKey, sqliteTable, text } from "drizzle-orm/sqlite-core";

export const ratelimitCounts = sqliteTable(
  "ratelimit_counts",
  {
    /** "m:a:<account>", "r:i:<ip>", "n:a:<account>", "f:<ip>" (index.ts). */
    key: text("key").notNull(),
    minute: integer("minute").notNull(),
    n: integer("n").notNull(),
  },
  (t) => [primaryKey({ columns: [t.key, t.minute] }), index("ratelimit_counts_minute").on(t.minute)],
);

export const ratelimitFlags = sqliteTable("ratelimit_flags", {
  /** "held:<account>", "ban:<ip>", "alerted:<what>:<account>". */
  key: text("key").primaryKey(),
  until: integer("until").notNull(),
  /** For the admin: the account's address and why. */
  note: text("note").notNull().default(""),
});

export const ratelimitRecipients = sqliteTable(
  "ratelimit_recipients",
  {
    accountId: integer("account_id").notNull(),
    address: text("address").notNull(),
  },
  (t) => [primaryKey({ columns: [t.accountId, t.address] })],
);

export const ratelimitSenders = sqliteTable(
  "ratelimit_senders",
  {
    accountId: integer("account_id").notNull(),
    mailFrom: text("mail_from").notNull(),
  },
  (t) => [primaryKey({ columns: [t.accountId, t.mailFrom] })],
);
