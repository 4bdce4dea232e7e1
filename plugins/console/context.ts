// What the console's routes share, and the middleware every console page runs behind:
// security headers (a strict CSP: own scripts and styles only), the session, and the CSRF
// check on every POST (a form without the right _csrf field is refused, 403).
import type { Context, Hono, MiddlewareHandler } from "hono";
import { clientPort } from "../../core/config.ts";
import type { Core } from "../../core/types.ts";
import { certificateInfo } from "./certificate.ts";
import type { AdminApi } from "./admin-api.ts";
import type { CheckResult, ChecksEnv } from "./checks.ts";
import type { ConsoleConfig } from "./config.ts";
import { sameString } from "./crypto.ts";
import type { Health } from "./health.ts";
import type { Security } from "./security.ts";
import type { Sessions, WebSession } from "./sessions.ts";
import type { SetupState } from "./setup-state.ts";

export interface ConsoleCtx {
  core: Core;
  cfg: ConsoleConfig;
  sessions: Sessions;
  security: Security;
  setup: SetupState;
  health: Health;
  checksEnv(): Promise<ChecksEnv>;
  /** Every check, the server's and each local domain's records. */
  runChecks(): Promise<CheckResult[]>;
  /** Other plugins' admin API, in process (set when the routes are mounted). */
  api?: AdminApi;
}

export type Form = Record<string, string>;

export type Env = {
  Bindings: { requestIP?: (req: Request) => { address: string } | null };
  Variables: { session: WebSession | null; csrf: string; form: Form };
};

export type C = Context<Env>;

export const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

export function clientIp(c: C): string {
  try {
    return c.env?.requestIP?.(c.req.raw)?.address ?? "unknown";
  } catch {
    return "unknown";
  }
}

/** A path parameter of the route (always there when the route matched). */
export const param = (c: C, name: string): string => (c.req.param() as Record<string, string>)[name] ?? "";

export const isHttps = (c: C): boolean => new URL(c.req.url).protocol === "https:";

/** Once a real (not self-signed) certificate exists, console pages over plain HTTP move to
 *  HTTPS (ACME challenges and autoconfig are not console paths: they stay on port 80). */
function httpsRedirect(ctx: ConsoleCtx): (c: C) => Promise<Response | null> {
  let real: { until: number; yes: boolean } | undefined;
  // A new certificate (ACME issued it, a file was replaced) is looked at on the next request.
  ctx.core.tls.onChange(() => void (real = undefined));
  return async (c) => {
    if (isHttps(c)) return null;
    if (!real || real.until < Date.now()) {
      const cert = await certificateInfo(ctx.core);
      real = { until: Date.now() + 60_000, yes: !!cert && !cert.selfSigned && cert.notAfter > Date.now() };
    }
    if (!real.yes) return null;
    const url = new URL(c.req.url);
    const port = clientPort(ctx.core.config, "https", 443);
    return c.redirect(`https://${url.hostname}${port === 443 ? "" : `:${port}`}${url.pathname}${url.search}`, 301);
  };
}

export function consoleMiddleware(ctx: ConsoleCtx): MiddlewareHandler<Env> {
  const toHttps = httpsRedirect(ctx);
  return async (c, next) => {
    const moved = await toHttps(c);
    if (moved) return moved;
    const session = await ctx.sessions.get(c);
    c.set("session", session);
    c.set("csrf", ctx.sessions.csrfFor(c, session));
    if (c.req.method === "POST") {
      const body = await c.req.parseBody().catch(() => ({}));
      const form: Form = {};
      for (const [k, v] of Object.entries(body)) if (typeof v === "string") form[k] = v;
      if (!sameString(form._csrf, c.get("csrf"))) {
        c.header("Content-Security-Policy", CSP);
        return c.text("This form is missing its security token (CSRF) or has expired. Go back, reload the page and try again.", 403);
      }
      c.set("form", form);
    }
    await next();
    c.header("Content-Security-Policy", CSP);
    c.header("X-Content-Type-Options", "nosniff");
    c.header("Referrer-Policy", "same-origin");
    c.header("X-Frame-Options", "DENY");
    c.header("Cache-Control", "no-store");
  };
}

/** Mount the middleware on each console path (not on "*": /api and /healthz are the core's). */
export function guard(app: Hono<Env>, ctx: ConsoleCtx, prefixes: string[]): void {
  const mw = consoleMiddleware(ctx);
  // Hono's "/x/*" matches "/x" too: one registration per prefix, or it runs twice.
  for (const p of prefixes) app.use(`${p}/*`, mw);
}
