// Tables owned by plugins/greylist (migrated with the core's: core/db/drizzle.config.ts).
import { integer, primaryKey, sqliteTable, text } from "drizzle-orm/sqlite-core";

/** Triplets seen: (client network, sender, recipient) and when first. */
export const greylistTriplets = sqliteTable(
  "greylist_triplets",
  {
    net: text("net").notNull(),
    sender: text("sender").notNull(),
    rcpt: text("rcpt").notNull(),
    firstSeen: integer("first_seen").notNull(),
  },
  (t) => [primaryKey({ columns: [t.net, t.sender, t.rcpt] })],
);

/** Sender domains that retried from a network: never greylisted there until `until`. */
export const greylistPassed = sqliteTable(
  "greylist_passed",
  {
    net: text("net").notNull(),
    domain: text("domain").notNull(),
    until: integer("until").notNull(),
  },
  (t) => [primaryKey({ columns: [t.net, t.domain] })],
);
