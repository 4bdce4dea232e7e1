// The aliases plugin's tables (migrations generated with the core's: npm run db:generate).
// Its per-domain settings are its own rows, keyed by the core's domain id (domains are
// read through the Store).
import { integer, sqliteTable, text } from "drizzle-orm/sqlite-core";

export const aliases = sqliteTable("aliases", {
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
});

/** Per-domain settings of the aliases plugin. */
export const aliasDomains = sqliteTable("alias_domains", {
  /** The core's `domains.id`. */
  domainId: integer("domain_id").primaryKey(),
  /** Domain alias: all mail to this domain goes to the target domain (its id). */
  aliasOf: integer("alias_of"),
  /** The domain's catch-all: one address or a list (JSON array, or comma/space separated). */
  catchAll: text("catch_all"),
});
