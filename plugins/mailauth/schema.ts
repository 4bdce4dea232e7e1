// The mailauth plugin's table: DKIM keys per domain (migrations generated with the core's:
// npm run db:generate).
import { integer, sqliteTable, text } from "drizzle-orm/sqlite-core";

export const dkimKeys = sqliteTable("dkim_keys", {
  id: integer("id").primaryKey({ autoIncrement: true }),
  domain: text("domain").notNull(),
  selector: text("selector").notNull(),
  algorithm: text("algorithm").notNull(), // "rsa-sha256" | "ed25519-sha256"
  privateKey: text("private_key").notNull(), // PEM
  publicKey: text("public_key").notNull(), // base64 for the p= tag
  active: integer("active", { mode: "boolean" }).notNull().default(true),
  createdAt: integer("created_at").notNull(),
});
