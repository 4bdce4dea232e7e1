// What the console's routes share, and the middleware every console page runs behind:
// security headers (a strict CSP: own scripts and styles only), the session, and the CSRF
// check on every POST (a form without the right _csrf field is refused, 403).
import type { Context, Hono, MiddlewareHandler } from "hono";
import type { Core } from "../../core/types.ts";
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
}

export type Form = Record<string, string>;

export type Env = {
  Bindings: { requestIP?: (req: Request) => { address: string } | null };
  Variables: { session: WebSession | null; csrf: string; form: Form };
};

export type C = Context<Env>;

export const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

export function clientIp(c: C): string {
  try {
    return c.env?.requestIP?.(c.req.raw)?.address ?? "unknown";
  } catch {
    return "unknown";
  }
}

export const isHttps = (c: C): boolean => new URL(c.req.url).protocol === "https:";

export function consoleMiddleware(ctx: ConsoleCtx): MiddlewareHandler<Env> {
  return async (c, next) => {
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
  for (const p of prefixes) {
    app.use(p, mw);
    app.use(`${p}/*`, mw);
  }
}
