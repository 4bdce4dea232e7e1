// The edge plugin's tables (migrations generated with the core's: npm run db:generate).
// On the edge (VPS): one row per paired home domain, its credential (hashed) and the
// recipients the home last sent. At home: the link to its edge. On both: nothing else.
import { integer, sqliteTable, text } from "drizzle-orm/sqlite-core";

/** Edge side: a home domain this server is the MX and ODMR server of. */
export const edgePeers = sqliteTable("edge_peers", {
  domain: text("domain").primaryKey(),
  /** SHA-256 (hex) of the one-time pairing secret; null once the home has joined. */
  codeHash: text("code_hash"),
  /** SHA-256 (hex) of the credential the home logs in with (given at join). */
  secretHash: text("secret_hash"),
  createdAt: integer("created_at").notNull(),
  pairedAt: integer("paired_at"),
  /** JSON array of lower-cased addresses ("@domain": every address, a catch-all). */
  recipients: text("recipients").notNull().default("[]"),
  syncedAt: integer("synced_at"),
  lastSeen: integer("last_seen"),
  lastError: text("last_error"),
});

/** Home side: the edge this server pulls its mail from and sends through. */
export const edgeLinks = sqliteTable("edge_links", {
  domain: text("domain").primaryKey(),
  host: text("host").notNull(),
  port: integer("port").notNull(),
  secret: text("secret").notNull(),
  /** SHA-256 (hex) of the edge's link certificate (DER), from the pairing code. */
  fingerprint: text("fingerprint").notNull(),
  pairedAt: integer("paired_at").notNull(),
  lastOk: integer("last_ok"),
  lastError: text("last_error"),
  /** Messages pulled since the link was made. */
  pulled: integer("pulled").notNull().default(0),
});

/** Edge side: the certificate of the ODMR listener, the one pairing codes pin (made once,
 *  independent of ACME renewals of the public certificate). */
export const edgeIdentity = sqliteTable("edge_identity", {
  id: integer("id").primaryKey(),
  keyPem: text("key_pem").notNull(),
  certPem: text("cert_pem").notNull(),
  createdAt: integer("created_at").notNull(),
});
