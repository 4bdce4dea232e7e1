// The aliases plugin's table (migrations generated with the core's: npm run db:generate).
// Its domain settings live in the core's `domains` table (aliasOf, catchAll).
import { integer, sqliteTable, text } from "drizzle-orm/sqlite-core";

export const aliases = sqliteTable(
  "aliases",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    /** "local@domain" (lower-case), or "@domain" for a catch-all. */
    address: text("address").notNull().unique(),
    /** JSON array of target addresses (local accounts, other aliases, remote). */
    targets: text("targets").notNull(),
    /** "alias" or "group". */
    kind: text("kind").notNull().default("alias"),
    /** Groups: only members may post. */
    membersOnly: integer("members_only", { mode: "boolean" }).notNull().default(false),
    /** JSON array of account addresses allowed to send as this address. */
    senders: text("senders").notNull().default("[]"),
    createdAt: integer("created_at").notNull(),
  },
);
