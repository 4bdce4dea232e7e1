// The jmap plugin's tables (migrations generated with the core's: npm run db:generate):
// identities beyond the account's own address (RFC 8621 §6), submissions (§7) and vacation
// responses (RFC 8621 §8, RFC 3834).
import { index, integer, primaryKey, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { accounts } from "../../core/db/schema.ts";

export const jmapIdentities = sqliteTable("jmap_identities", {
  id: integer("id").primaryKey({ autoIncrement: true }),
  accountId: integer("account_id")
    .notNull()
    .references(() => accounts.id, { onDelete: "cascade" }),
  name: text("name").notNull().default(""),
  email: text("email").notNull(),
  replyTo: text("reply_to"), // JSON EmailAddress[]
  bcc: text("bcc"), // JSON EmailAddress[]
  textSignature: text("text_signature").notNull().default(""),
  htmlSignature: text("html_signature").notNull().default(""),
});

export const jmapSubmissions = sqliteTable(
  "jmap_submissions",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    accountId: integer("account_id")
      .notNull()
      .references(() => accounts.id, { onDelete: "cascade" }),
    identityId: text("identity_id").notNull(),
    emailId: integer("email_id").notNull(),
    threadId: integer("thread_id").notNull(),
    envelope: text("envelope").notNull(), // JSON Envelope
    sendAt: integer("send_at").notNull(),
    spoolId: text("spool_id").notNull(),
    modseq: integer("modseq").notNull(),
  },
  (t) => [index("jmap_submissions_account").on(t.accountId, t.modseq)],
);

export const jmapVacation = sqliteTable("jmap_vacation", {
  accountId: integer("account_id")
    .primaryKey()
    .references(() => accounts.id, { onDelete: "cascade" }),
  isEnabled: integer("is_enabled", { mode: "boolean" }).notNull().default(false),
  fromDate: integer("from_date"),
  toDate: integer("to_date"),
  subject: text("subject"),
  textBody: text("text_body"),
  htmlBody: text("html_body"),
});

/** One auto-reply per sender per period (RFC 3834 §2). */
export const jmapVacationSent = sqliteTable(
  "jmap_vacation_sent",
  {
    accountId: integer("account_id")
      .notNull()
      .references(() => accounts.id, { onDelete: "cascade" }),
    sender: text("sender").notNull(),
    sentAt: integer("sent_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.accountId, t.sender] })],
);
