// Web sessions kept in the database (DESIGN "The web side"): the cookie holds a random id,
// the table its sha-256 (a copy of the table opens no session). Cookies are HttpOnly,
// SameSite=Lax, and Secure on HTTPS. Every session has its own CSRF token; a visitor
// without a session (login, setup) gets a random "pre" cookie whose HMAC is the token.
import { createHmac } from "node:crypto";
import type { Context } from "hono";
import { getCookie, setCookie, deleteCookie } from "hono/cookie";
import type { Db } from "../../core/db/open.ts";
import { randomToken, sha256 } from "./crypto.ts";

export const SESSION_COOKIE = "kp_session";
const PRE_COOKIE = "kp_pre";
export const SESSION_TTL_MS = 12 * 3600_000;
/** A login waiting for its TOTP code expires sooner. */
const PENDING_TTL_MS = 10 * 60_000;

export interface WebSession {
  id: string; // hashed id
  accountId: number;
  csrf: string;
  complete: boolean;
  expiresAt: number;
}

const isHttps = (c: Context) => new URL(c.req.url).protocol === "https:";
const cookieOpts = (c: Context, maxAge?: number) => ({ httpOnly: true, sameSite: "Lax" as const, secure: isHttps(c), path: "/", ...(maxAge ? { maxAge } : {}) });

export function createSessions(db: Db) {
  const preSecret = randomToken();

  async function byCookie(value: string | undefined): Promise<WebSession | null> {
    if (!value || value.length > 100) return null;
    const r = await db.query({ sql: "SELECT id, account_id, csrf, complete, expires_at FROM web_sessions WHERE id = ?", args: [sha256(value)] });
    const row = r.rows[0];
    if (!row || Number(row.expires_at) < Date.now()) return null;
    return { id: String(row.id), accountId: Number(row.account_id), csrf: String(row.csrf), complete: Boolean(Number(row.complete)), expiresAt: Number(row.expires_at) };
  }

  return {
    /** The request's session, complete or pending (TOTP not given yet). */
    async get(c: Context): Promise<WebSession | null> {
      return byCookie(getCookie(c, SESSION_COOKIE));
    },
    /** Same, for a bare Request (the http.auth hook). */
    async fromRequest(req: Request): Promise<WebSession | null> {
      const m = /(?:^|;\s*)kp_session=([^;]+)/.exec(req.headers.get("cookie") ?? "");
      return byCookie(m?.[1]);
    },
    /** A new session (a fresh id at every login: no fixation), cookie set. */
    async start(c: Context, accountId: number, complete: boolean, ip: string): Promise<WebSession> {
      const value = randomToken();
      const now = Date.now();
      const s: WebSession = { id: sha256(value), accountId, csrf: randomToken(), complete, expiresAt: now + (complete ? SESSION_TTL_MS : PENDING_TTL_MS) };
      await db.write(async (tx) => {
        await tx.execute({ sql: "DELETE FROM web_sessions WHERE expires_at < ?", args: [now] });
        await tx.execute({
          sql: "INSERT INTO web_sessions (id, account_id, csrf, complete, ip, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
          args: [s.id, accountId, s.csrf, complete ? 1 : 0, ip, now, s.expiresAt],
        });
      });
      setCookie(c, SESSION_COOKIE, value, cookieOpts(c));
      deleteCookie(c, PRE_COOKIE, { path: "/" });
      return s;
    },
    /** The second factor was given: the pending session becomes a full one. */
    async complete(s: WebSession): Promise<void> {
      await db.write((tx) => tx.execute({ sql: "UPDATE web_sessions SET complete = 1, expires_at = ? WHERE id = ?", args: [Date.now() + SESSION_TTL_MS, s.id] }));
    },
    async end(c: Context, s: WebSession | null): Promise<void> {
      if (s) await db.write((tx) => tx.execute({ sql: "DELETE FROM web_sessions WHERE id = ?", args: [s.id] }));
      deleteCookie(c, SESSION_COOKIE, { path: "/" });
    },
    /** Every session of an account ends (password changed, account disabled). */
    async endAll(accountId: number, except?: string): Promise<void> {
      await db.write((tx) => tx.execute({ sql: "DELETE FROM web_sessions WHERE account_id = ? AND id <> ?", args: [accountId, except ?? ""] }));
    },
    /** The CSRF token forms on this request must carry. */
    csrfFor(c: Context, s: WebSession | null): string {
      if (s) return s.csrf;
      let pre = getCookie(c, PRE_COOKIE);
      if (!pre || pre.length > 100) {
        pre = randomToken();
        setCookie(c, PRE_COOKIE, pre, cookieOpts(c));
      }
      return createHmac("sha256", preSecret).update(pre).digest("base64url");
    },
  };
}

export type Sessions = ReturnType<typeof createSessions>;
