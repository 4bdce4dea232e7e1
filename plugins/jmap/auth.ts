// HTTP Basic authentication (RFC 7617) for the JMAP endpoints, through the core's `auth`
// hook so the same login limiter (per IP and per account) and app passwords apply as for
// IMAP and submission.
import type { Context } from "hono";
import { getConnInfo } from "hono/bun";
import type { AuthUser, Connection, Core, Credentials } from "../../core/types.ts";

/** The `auth` hook takes the connection it guards; HTTP has a request instead, so this is
 *  the part of a Connection the auth handlers read (address, logger), for one request. */
export function requestConnection(core: Core, remoteAddress: string, remotePort: number, secure: boolean): Connection {
  const closed = new AbortController();
  return {
    id: "jmap",
    service: secure ? "https" : "http",
    remoteAddress,
    remotePort,
    localAddress: "",
    localPort: 0,
    isLoopback: remoteAddress === "127.0.0.1" || remoteAddress === "::1" || remoteAddress.startsWith("::ffff:127."),
    secure,
    // Web logins are not line sessions; HTTPS or not is the web server's own decision.
    plaintextLoginAllowed: secure,
    log: core.log.child({ jmap: remoteAddress }),
    closing: closed.signal,
    state: {},
    onData() {},
    onClose() {},
    write() {},
    drain: async () => {},
    pause() {},
    resume() {},
    upgradeTls: async () => {
      throw new Error("not a socket");
    },
    setIdleTimeout() {},
    close() {},
    destroy() {},
  };
}

export function remoteOf(c: Context): { address: string; port: number } {
  try {
    const info = getConnInfo(c);
    return { address: info.remote.address ?? "unknown", port: info.remote.port ?? 0 };
  } catch {
    return { address: "unknown", port: 0 };
  }
}

export type AuthOutcome = { ok: true; user: AuthUser } | { ok: false; status: 401 | 403 | 429; text: string };

/** Authenticates a request: its Authorization: Basic header (each request: the store's
 *  credential cache makes a repeated login cheap, see core/store/credential-cache.ts), else
 *  the web session cookie (the `http.auth` hook of the web console), whose writes must carry
 *  the session's CSRF token in an X-CSRF-Token header (a cross-site form or fetch cannot know it). */
export async function authenticate(core: Core, c: Context): Promise<AuthOutcome> {
  const h = c.req.header("authorization") ?? "";
  if (!h) {
    const who = await core.hooks.first("http.auth", c.req.raw);
    if (who.kind !== "user") return { ok: false, status: 401, text: "authentication required" };
    if (!["GET", "HEAD"].includes(c.req.method) && c.req.header("x-csrf-token") !== who.csrf) return { ok: false, status: 403, text: "missing or wrong X-CSRF-Token header" };
    return { ok: true, user: who.user };
  }
  return verify(core, c, h);
}

async function verify(core: Core, c: Context, h: string): Promise<AuthOutcome> {
  const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(h);
  if (!m) return { ok: false, status: 401, text: "authentication required" };
  const decoded = Buffer.from(m[1]!, "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  if (colon <= 0) return { ok: false, status: 401, text: "malformed credentials" };
  const cred: Credentials = { mechanism: "PLAIN", username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
  const remote = remoteOf(c);
  const conn = requestConnection(core, remote.address, remote.port, new URL(c.req.url).protocol === "https:");
  const r = await core.hooks.first("auth", conn, cred);
  if (r.kind === "user") return { ok: true, user: r.user };
  if (r.kind === "reject" && r.reply.code < 500) return { ok: false, status: 429, text: r.reply.text };
  return { ok: false, status: 401, text: r.kind === "reject" ? r.reply.text : "authentication failed" };
}

/** A refusal; the Basic challenge only for clients that do not use the web session (a
 *  browser would pop up a password dialog over the webmail). */
export function unauthorized(status: 401 | 403 | 429, text: string, challenge = true): Response {
  return new Response(JSON.stringify({ type: "about:blank", status, detail: text }), {
    status,
    headers: { "content-type": "application/problem+json", ...(status === 401 && challenge && { "www-authenticate": 'Basic realm="kotakpos", charset="UTF-8"' }) },
  });
}
