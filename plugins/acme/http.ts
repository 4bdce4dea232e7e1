// HTTP routes of the acme plugin (mounted through the http.routes hook):
//   GET  /.well-known/acme-challenge/:token   HTTP-01 answers (RFC 8555 §8.3), on 80 and 443
//   GET  /api/admin/tls                        status of every name   {acme, directory, names: StatusView[]}
//   POST /api/admin/tls/renew                  order now, body {"names": [...]} (empty: all)
import { Hono } from "hono";
import * as v from "valibot";
import type { AuthUser } from "../../core/types.ts";
import type { Manager } from "./manager.ts";
import { statusView } from "./status.ts";

/** HTTP-01 key authorizations (and self-check probes) by token. */
export class ChallengeTokens {
  private tokens = new Map<string, string>();
  add(token: string, value: string): void {
    this.tokens.set(token, value);
  }
  remove(token: string): void {
    this.tokens.delete(token);
  }
  get(token: string): string | undefined {
    return this.tokens.get(token);
  }
}

const TOKEN = /^[A-Za-z0-9_-]{1,200}$/;

export function challengeApp(tokens: ChallengeTokens): Hono {
  const app = new Hono();
  app.get("/.well-known/acme-challenge/:token", (c) => {
    const t = c.req.param("token");
    const v = TOKEN.test(t) ? tokens.get(t) : undefined;
    return v === undefined ? c.text("no such challenge\n", 404) : c.text(v, 200, { "content-type": "application/octet-stream" });
  });
  return app;
}

type Env = { Variables: { adminUser?: AuthUser } };
const RenewBody = v.object({ names: v.optional(v.pipe(v.array(v.pipe(v.string(), v.maxLength(253))), v.maxLength(1000)), []) });

export function adminApp(info: { directory: string; manager?: Manager }): Hono<Env> {
  const app = new Hono<Env>();
  app.use("/tls/*", async (c, next) => (c.get("adminUser") ? next() : c.json({ error: "admin login required" }, 401)));
  app.use("/tls", async (c, next) => (c.get("adminUser") ? next() : c.json({ error: "admin login required" }, 401)));
  app.get("/tls", async (c) => c.json({ acme: !!info.manager, directory: info.manager ? info.directory : null, names: info.manager ? (await info.manager.statuses()).map(statusView) : [] }));
  app.post("/tls/renew", async (c) => {
    if (!info.manager) return c.json({ error: "ACME is off ([acme] enabled = false, or hostname is not a public name)" }, 409);
    let raw: unknown = {};
    try {
      const text = await c.req.text();
      raw = text ? JSON.parse(text) : {};
    } catch {
      return c.json({ error: "the body must be JSON" }, 400);
    }
    const r = v.safeParse(RenewBody, raw);
    if (!r.success) return c.json({ error: r.issues.map((i) => `${v.getDotPath(i) ?? "body"}: ${i.message}`).join("; ") }, 400);
    return c.json({ names: (await info.manager.renew(r.output.names)).map(statusView) });
  });
  return app;
}
