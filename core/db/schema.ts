// The core's database schema (drizzle, SQLite dialect for libSQL). Plugins keep their own
// tables in plugins/<name>/schema.ts; migrations are generated from all of them together
// by `npm run db:generate` (one database) and embedded in the binary.
import { sql } from "drizzle-orm";
import { sqliteTable, integer, text, index, uniqueIndex, primaryKey } from "drizzle-orm/sqlite-core";

export const settings = sqliteTable("settings", {
  key: text("key").primaryKey(),
  value: text("value").notNull(),
});

export const domains = sqliteTable("domains", {
  id: integer("id").primaryKey({ autoIncrement: true }),
  name: text("name").notNull().unique(),
  createdAt: integer("created_at").notNull(),
});

export const accounts = sqliteTable("accounts", {
  id: integer("id").primaryKey({ autoIncrement: true }),
  address: text("address").notNull().unique(),
  domainId: integer("domain_id")
    .notNull()
    .references(() => domains.id),
  passwordHash: text("password_hash").notNull(),
  /** Per-account modseq counter (DESIGN: starts at 2). */
  modseq: integer("modseq").notNull().default(1),
  disabled: integer("disabled", { mode: "boolean" }).notNull().default(false),
  createdAt: integer("created_at").notNull(),
});

/** Monotonic counter for uidvalidity, never reused (DESIGN). */
export const counters = sqliteTable("counters", {
  name: text("name").primaryKey(),
  value: integer("value").notNull(),
});

export const mailboxes = sqliteTable(
  "mailboxes",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    accountId: integer("account_id")
      .notNull()
      .references(() => accounts.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    specialUse: text("special_use"),
    uidvalidity: integer("uidvalidity").notNull(),
    uidnext: integer("uidnext").notNull().default(1),
    highestModseq: integer("highest_modseq").notNull().default(1),
    messages: integer("messages").notNull().default(0),
    unseen: integer("unseen").notNull().default(0),
    size: integer("size").notNull().default(0),
    subscribed: integer("subscribed", { mode: "boolean" }).notNull().default(true),
    /** Account modseq when the row was created / last renamed or (un)subscribed: JMAP
     *  Mailbox/changes (core/store/objects.ts). */
    createdModseq: integer("created_modseq").notNull().default(0),
    changedModseq: integer("changed_modseq").notNull().default(0),
  },
  (t) => [uniqueIndex("mailboxes_account_name").on(t.accountId, t.name)],
);

export const blobs = sqliteTable(
  "blobs",
  {
    id: text("id").primaryKey(), // sha-256 hex
    size: integer("size").notNull(),
    refcount: integer("refcount").notNull().default(0),
    /** When refcount dropped to 0 (erase after a grace period). */
    orphanedAt: integer("orphaned_at"),
  },
  // Blob GC looks only at unreferenced rows: a small partial index instead of a scan.
  (t) => [index("blobs_unreferenced").on(t.orphanedAt).where(sql`refcount <= 0`)],
);

export const messages = sqliteTable(
  "messages",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    mailboxId: integer("mailbox_id")
      .notNull()
      .references(() => mailboxes.id, { onDelete: "cascade" }),
    uid: integer("uid").notNull(),
    modseq: integer("modseq").notNull(),
    /** Bitmask of system flags: 1 Seen, 2 Answered, 4 Flagged, 8 Deleted, 16 Draft. */
    flags: integer("flags").notNull().default(0),
    /** Keywords as a JSON array of strings. */
    keywords: text("keywords").notNull().default("[]"),
    internalDate: integer("internal_date").notNull(),
    size: integer("size").notNull(),
    blobId: text("blob_id")
      .notNull()
      .references(() => blobs.id),
    prefix: text("prefix").notNull().default(""),
    envelope: text("envelope").notNull(), // JSON Envelope
    structure: text("structure").notNull(), // JSON MimePart
    subject: text("subject").notNull().default(""),
    from: text("from_addr").notNull().default(""),
    to: text("to_addr").notNull().default(""),
    cc: text("cc_addr").notNull().default(""),
    bcc: text("bcc_addr").notNull().default(""),
    messageId: text("message_id").notNull().default(""),
    sentDate: integer("sent_date"),
    preview: text("preview").notNull().default(""),
    /** Stable object ids (core/store/ids.ts): the email id survives MOVE; COPY makes a
     *  new one. The thread id is the email id of the thread's first message. */
    emailId: integer("email_id").notNull().default(0),
    threadId: integer("thread_id").notNull().default(0),
    /** Account modseq at which this email id first appeared (JMAP created vs updated). */
    createdModseq: integer("created_modseq").notNull().default(0),
    /** When the message was saved into this mailbox (RFC 8514 SAVEDATE): the row's insert
     *  time, so a COPY or MOVE gets its own while INTERNALDATE is kept. */
    savedAt: integer("saved_at").notNull().default(sql`(CAST(unixepoch('subsec') * 1000 AS INTEGER))`),
  },
  (t) => [
    index("messages_email").on(t.emailId),
    // JMAP's mailbox listing, newest first, reads this index in order (LIMIT, no sort).
    index("messages_mailbox_date").on(t.mailboxId, t.internalDate, t.emailId),
    index("messages_thread").on(t.threadId),
    index("messages_message_id").on(t.messageId),
    uniqueIndex("messages_mailbox_uid").on(t.mailboxId, t.uid),
    index("messages_mailbox_modseq").on(t.mailboxId, t.modseq),
    // EXPUNGE looks only at messages flagged \Deleted (8): a small partial index, no scan.
    index("messages_deleted").on(t.mailboxId, t.uid).where(sql`(flags & 8) <> 0`),
  ],
);

/** Destroyed object ids per account (JMAP Foo/changes, RFC 8620 §5.2): emails (with their
 *  thread) and mailboxes. A move destroys nothing: the email id lives on. */
export const destroyed = sqliteTable(
  "destroyed",
  {
    accountId: integer("account_id")
      .notNull()
      .references(() => accounts.id, { onDelete: "cascade" }),
    kind: text("kind", { enum: ["email", "mailbox"] }).notNull(),
    objectId: integer("object_id").notNull(),
    threadId: integer("thread_id").notNull().default(0),
    modseq: integer("modseq").notNull(),
  },
  (t) => [primaryKey({ columns: [t.accountId, t.kind, t.objectId] }), index("destroyed_modseq").on(t.accountId, t.modseq)],
);

/** Expunged messages (QRESYNC VANISHED, RFC 7162 §3.2.10). */
export const tombstones = sqliteTable(
  "tombstones",
  {
    mailboxId: integer("mailbox_id")
      .notNull()
      .references(() => mailboxes.id, { onDelete: "cascade" }),
    uid: integer("uid").notNull(),
    modseq: integer("modseq").notNull(),
  },
  (t) => [primaryKey({ columns: [t.mailboxId, t.uid] }), index("tombstones_modseq").on(t.mailboxId, t.modseq)],
);

/** One row per recipient of a queued message (DESIGN: spool). */
export const spool = sqliteTable(
  "spool",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    msgId: text("msg_id").notNull(),
    blobId: text("blob_id")
      .notNull()
      .references(() => blobs.id),
    prefix: text("prefix").notNull().default(""),
    mailFrom: text("mail_from").notNull(),
    recipient: text("recipient").notNull(),
    domain: text("domain").notNull(),
    status: text("status").notNull(), // queued | inflight | deferred | delivered | failed
    attempts: integer("attempts").notNull().default(0),
    nextAttempt: integer("next_attempt").notNull(),
    leaseOwner: text("lease_owner"),
    leaseUntil: integer("lease_until"),
    lastError: text("last_error"),
    dsn: text("dsn"), // JSON: { ret, envid, notify, orcpt }
    internal: integer("internal", { mode: "boolean" }).notNull().default(false),
    warned: integer("warned", { mode: "boolean" }).notNull().default(false),
    size: integer("size").notNull(),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [index("spool_due").on(t.status, t.nextAttempt), index("spool_msg").on(t.msgId)],
);

/** Singleton jobs (ACME, TLS reports, health checks, blob GC) run on one instance at a
 *  time when several share a libSQL server: the holder and its expiry (core/lease.ts). */
export const leases = sqliteTable("leases", {
  name: text("name").primaryKey(),
  owner: text("owner").notNull(),
  until: integer("until").notNull(),
});

export const certificates = sqliteTable("certificates", {
  id: integer("id").primaryKey({ autoIncrement: true }),
  names: text("names").notNull(), // JSON array of DNS names
  keyPem: text("key_pem").notNull(),
  certPem: text("cert_pem").notNull(),
  issuer: text("issuer").notNull(), // "self-signed" | "acme"
  notAfter: integer("not_after").notNull(),
  createdAt: integer("created_at").notNull(),
});

/** Per-account quota set by the admin (RFC 9208 STORAGE in KiB, MESSAGE count); null or no
 *  row: unlimited. Usage is the sum over the account's mailboxes. */
export const quotas = sqliteTable("quotas", {
  accountId: integer("account_id")
    .primaryKey()
    .references(() => accounts.id, { onDelete: "cascade" }),
  storageKib: integer("storage_kib"),
  messages: integer("messages"),
});

// owned by plugins/imap: subscribed names that have no mailbox (RFC 3501 §6.3.6: a
// subscription outlives DELETE; LIST shows it \NonExistent, RFC 5258 §3.1).
export const imapSubscriptions = sqliteTable(
  "imap_subscriptions",
  {
    accountId: integer("account_id")
      .notNull()
      .references(() => accounts.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
  },
  (t) => [primaryKey({ columns: [t.accountId, t.name] })],
);

// owned by plugins/imap: METADATA (RFC 5464) entries. Server entries have mailbox_id 0;
// /shared server entries account_id 0 (all users see them).
export const imapMetadata = sqliteTable(
  "imap_metadata",
  {
    accountId: integer("account_id").notNull(),
    mailboxId: integer("mailbox_id").notNull(),
    /** "/private/comment", "/shared/vendor/x/y", lower-case. */
    entry: text("entry").notNull(),
    value: text("value").notNull(),
  },
  (t) => [primaryKey({ columns: [t.accountId, t.mailboxId, t.entry] })],
);

/** The login limiter (core/auth.ts), kept across restarts: failures per key ("ip:…" or
 *  "acct:…"); rows expire a day after their last failure. */
export const authFailures = sqliteTable("auth_failures", {
  key: text("key").primaryKey(),
  failures: integer("failures").notNull(),
  lastFailure: integer("last_failure").notNull(),
});

/** Addresses each account logged in from successfully: exempt from that account's slow-down. */
export const authKnownAddresses = sqliteTable(
  "auth_known_addresses",
  {
    account: text("account").notNull(),
    ip: text("ip").notNull(),
    lastSuccess: integer("last_success").notNull(),
  },
  (t) => [primaryKey({ columns: [t.account, t.ip] })],
);
