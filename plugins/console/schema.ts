// owned by plugins/console: web sessions, per-account security (admin flag, TOTP), app
// passwords and the health history. Wired into drizzle-kit by core/db/drizzle.config.ts.
import { sqliteTable, integer, text, index } from "drizzle-orm/sqlite-core";

/** A browser session: random id (the cookie), its CSRF token, and whether the second
 *  factor was given (a session with totp pending is not logged in yet). */
export const webSessions = sqliteTable(
  "web_sessions",
  {
    id: text("id").primaryKey(), // sha-256 hex of the cookie value
    accountId: integer("account_id").notNull(),
    csrf: text("csrf").notNull(),
    /** 1 once the login is complete (password, and TOTP when it is on). */
    complete: integer("complete", { mode: "boolean" }).notNull().default(false),
    ip: text("ip").notNull().default(""),
    createdAt: integer("created_at").notNull(),
    expiresAt: integer("expires_at").notNull(),
  },
  (t) => [index("web_sessions_account").on(t.accountId)],
);

export const accountSecurity = sqliteTable("account_security", {
  accountId: integer("account_id").primaryKey(),
  admin: integer("admin", { mode: "boolean" }).notNull().default(false),
  /** Base32 TOTP secret (RFC 6238); set while enrolling, in use when totpEnabled. */
  totpSecret: text("totp_secret"),
  totpEnabled: integer("totp_enabled", { mode: "boolean" }).notNull().default(false),
  /** Last accepted TOTP step: a code is never accepted twice (RFC 6238 §5.2). */
  totpLastStep: integer("totp_last_step").notNull().default(0),
  /** JSON array of sha-256 hex of the unused recovery codes. */
  recoveryCodes: text("recovery_codes").notNull().default("[]"),
});

export const appPasswords = sqliteTable(
  "app_passwords",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    accountId: integer("account_id").notNull(),
    name: text("name").notNull(),
    /** sha-256 hex of the generated password (random, 100+ bits: no slow hash needed). */
    hash: text("hash").notNull().unique(),
    createdAt: integer("created_at").notNull(),
    lastUsed: integer("last_used"),
  },
  (t) => [index("app_passwords_account").on(t.accountId)],
);

/** One row per check run whose result differs from the previous one of the same check
 *  (the history the health page shows; alerts are sent for these changes). */
export const healthHistory = sqliteTable(
  "health_history",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    checkId: text("check_id").notNull(),
    status: text("status").notNull(), // pass | warn | fail | unknown
    summary: text("summary").notNull(),
    /** What is compared between runs: status and the failing items. */
    signature: text("signature").notNull(),
    at: integer("at").notNull(),
  },
  (t) => [index("health_history_check").on(t.checkId, t.at)],
);
