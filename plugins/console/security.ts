// Per-account security state: the admin flag, TOTP (RFC 6238) with recovery codes, and
// app passwords (named, revocable, last use recorded) for IMAP/POP3/SMTP clients.
import type * as OTPAuth from "otpauth";
import type { Db } from "../../core/db/open.ts";
import { randomToken, sha256 } from "./crypto.ts";

export interface SecurityState {
  admin: boolean;
  totpEnabled: boolean;
  totpSecret: string | null;
  recoveryLeft: number;
}

export interface AppPassword {
  id: number;
  name: string;
  createdAt: number;
  lastUsed: number | null;
}

const TOTP_PERIOD = 30;
/** A code from the step before or after is accepted too (clock drift, RFC 6238 §5.2). */
const TOTP_WINDOW = 1;

/** otpauth is loaded on the first TOTP use (enrolment, a login with a code), not at start. */
let otpauth: Promise<typeof OTPAuth> | null = null;
const loadOtpauth = (): Promise<typeof OTPAuth> => (otpauth ??= import("otpauth"));

export async function totpFor(secret: string, label: string): Promise<OTPAuth.TOTP> {
  const OTPAuth = await loadOtpauth();
  return new OTPAuth.TOTP({ issuer: "kotakpos", label, secret: OTPAuth.Secret.fromBase32(secret), algorithm: "SHA1", digits: 6, period: TOTP_PERIOD });
}

/** An app password: 4 groups of 4 letters (about 75 bits), easy to type on a phone. */
function newAppPassword(): string {
  const abc = "abcdefghijkmnpqrstuvwxyz";
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  let s = "";
  for (let i = 0; i < 16; i++) s += abc[bytes[i]! % abc.length] + (i % 4 === 3 && i < 15 ? "-" : "");
  return s;
}

export function createSecurity(db: Db) {
  async function ensureRow(accountId: number): Promise<void> {
    await db.write((tx) => tx.execute({ sql: "INSERT OR IGNORE INTO account_security (account_id) VALUES (?)", args: [accountId] }));
  }
  async function row(accountId: number) {
    return (await db.query({ sql: "SELECT admin, totp_secret, totp_enabled, totp_last_step, recovery_codes FROM account_security WHERE account_id = ?", args: [accountId] })).rows[0];
  }

  const api = {
    async state(accountId: number): Promise<SecurityState> {
      const r = await row(accountId);
      return {
        admin: Boolean(Number(r?.admin ?? 0)),
        totpEnabled: Boolean(Number(r?.totp_enabled ?? 0)),
        totpSecret: (r?.totp_secret as string | null) ?? null,
        recoveryLeft: (JSON.parse(String(r?.recovery_codes ?? "[]")) as string[]).length,
      };
    },
    async isAdmin(accountId: number): Promise<boolean> {
      return (await api.state(accountId)).admin;
    },
    async setAdmin(accountId: number, admin: boolean): Promise<void> {
      await ensureRow(accountId);
      await db.write((tx) => tx.execute({ sql: "UPDATE account_security SET admin = ? WHERE account_id = ?", args: [admin ? 1 : 0, accountId] }));
    },
    async admins(): Promise<number[]> {
      return (await db.query("SELECT account_id FROM account_security WHERE admin = 1")).rows.map((r) => Number(r.account_id));
    },

    // ---- TOTP
    /** Start enrolling: a new secret, kept until confirmed with a code. */
    async beginTotp(accountId: number): Promise<string> {
      await ensureRow(accountId);
      const secret = new (await loadOtpauth()).Secret({ size: 20 }).base32;
      await db.write((tx) => tx.execute({ sql: "UPDATE account_security SET totp_secret = ?, totp_enabled = 0 WHERE account_id = ?", args: [secret, accountId] }));
      return secret;
    },
    /** Check a code (once per step: a replayed code fails). */
    async verifyTotp(accountId: number, code: string): Promise<boolean> {
      const r = await row(accountId);
      const secret = r?.totp_secret as string | null;
      if (!secret || !/^\d{6}$/.test(code.trim())) return false;
      const delta = (await totpFor(secret, "x")).validate({ token: code.trim(), window: TOTP_WINDOW });
      if (delta === null) return false;
      const step = Math.floor(Date.now() / 1000 / TOTP_PERIOD) + delta;
      if (step <= Number(r!.totp_last_step)) return false;
      await db.write((tx) => tx.execute({ sql: "UPDATE account_security SET totp_last_step = ? WHERE account_id = ?", args: [step, accountId] }));
      return true;
    },
    /** Confirm enrolment with a code; returns the recovery codes (shown once) or null. */
    async enableTotp(accountId: number, code: string): Promise<string[] | null> {
      if (!(await api.verifyTotp(accountId, code))) return null;
      const codes = Array.from({ length: 8 }, () =>
        randomToken(6)
          .toLowerCase()
          .replace(/[^a-z0-9]/g, "x")
          .slice(0, 8),
      );
      await db.write((tx) => tx.execute({ sql: "UPDATE account_security SET totp_enabled = 1, recovery_codes = ? WHERE account_id = ?", args: [JSON.stringify(codes.map(sha256)), accountId] }));
      return codes;
    },
    async disableTotp(accountId: number): Promise<void> {
      await db.write((tx) => tx.execute({ sql: "UPDATE account_security SET totp_enabled = 0, totp_secret = NULL, recovery_codes = '[]' WHERE account_id = ?", args: [accountId] }));
    },
    /** A recovery code works once. */
    async useRecoveryCode(accountId: number, code: string): Promise<boolean> {
      const h = sha256(code.trim().toLowerCase());
      return db.write(async (tx) => {
        const r = (await tx.execute({ sql: "SELECT recovery_codes FROM account_security WHERE account_id = ?", args: [accountId] })).rows[0];
        const list = JSON.parse(String(r?.recovery_codes ?? "[]")) as string[];
        if (!list.includes(h)) return false;
        await tx.execute({ sql: "UPDATE account_security SET recovery_codes = ? WHERE account_id = ?", args: [JSON.stringify(list.filter((x) => x !== h)), accountId] });
        return true;
      });
    },

    // ---- app passwords
    async listAppPasswords(accountId: number): Promise<AppPassword[]> {
      const r = await db.query({ sql: "SELECT id, name, created_at, last_used FROM app_passwords WHERE account_id = ? ORDER BY id", args: [accountId] });
      return r.rows.map((x) => ({ id: Number(x.id), name: String(x.name), createdAt: Number(x.created_at), lastUsed: x.last_used === null ? null : Number(x.last_used) }));
    },
    /** A new app password; the clear text is returned once and never stored. */
    async addAppPassword(accountId: number, name: string): Promise<string> {
      const pw = newAppPassword();
      await db.write((tx) => tx.execute({ sql: "INSERT INTO app_passwords (account_id, name, hash, created_at) VALUES (?, ?, ?, ?)", args: [accountId, name, sha256(pw), Date.now()] }));
      return pw;
    },
    async revokeAppPassword(accountId: number, id: number): Promise<boolean> {
      const r = await db.write((tx) => tx.execute({ sql: "DELETE FROM app_passwords WHERE id = ? AND account_id = ?", args: [id, accountId] }));
      return r.rowsAffected > 0;
    },
    /** The app password's row when it belongs to the account; its last use is recorded. */
    async matchAppPassword(accountId: number, password: string): Promise<boolean> {
      const h = sha256(password.trim().toLowerCase());
      const r = await db.query({ sql: "SELECT id FROM app_passwords WHERE account_id = ? AND hash = ?", args: [accountId, h] });
      const id = r.rows[0]?.id;
      if (id === undefined) return false;
      await db.write((tx) => tx.execute({ sql: "UPDATE app_passwords SET last_used = ? WHERE id = ?", args: [Date.now(), Number(id)] }));
      return true;
    },
  };
  return api;
}

export type Security = ReturnType<typeof createSecurity>;
