// The imap plugin's own tables (migrations generated with the core's: npm run db:generate).
// (imap_subscriptions and imap_metadata predate this file and live in core/db/schema.ts.)
import { integer, sqliteTable } from "drizzle-orm/sqlite-core";
import { mailboxes } from "../../core/db/schema.ts";

/** IMAP4rev1 \Recent (RFC 3501 §2.3.2), kept across restarts: per mailbox, the highest UID
 *  some session has been told about; UIDs above it are \Recent to the next session. */
export const imapRecent = sqliteTable("imap_recent", {
  mailboxId: integer("mailbox_id")
    .primaryKey()
    .references(() => mailboxes.id, { onDelete: "cascade" }),
  mark: integer("mark").notNull(),
});
