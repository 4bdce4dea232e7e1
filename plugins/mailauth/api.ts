// Admin API for the web UI (mounted under /api/admin by the http.routes hook). The HTTP
// server authenticates /api/admin/* and puts the admin on the context (`adminUser`); this
// sub-app refuses every request without it, so mounted elsewhere it stays shut.
//   GET  /domains/:domain/dns          records to publish   [{name,type,value,data,…}]
//   GET  /domains/:domain/dns/check    record by record: right / missing / wrong / error
//   GET  /domains/:domain/dkim         keys (selector, algorithm, state), no private keys
//   POST /domains/:domain/dkim/rotate  body {"step": "stage" | "activate" | "prune"}
import { Hono } from "hono";
import type { AdminEnv } from "../../core/types.ts";
import { checkDomain, keysOf, NotLocalDomain, recordsForDomain, rotate, type MailauthContext } from "./service.ts";

const DOMAIN = /^[\p{L}\p{N}.-]{1,253}$/u;

type Env = AdminEnv;

export function adminApp(ctx: () => MailauthContext): Hono<Env> {
  const app = new Hono<Env>();
  app.onError((err, c) => {
    if (err instanceof NotLocalDomain) return c.json({ error: err.message }, 404);
    return c.json({ error: (err as Error).message }, 500);
  });
  app.use("/domains/:domain/*", async (c, next) => {
    if (!c.get("adminUser")) return c.json({ error: "admin login required" }, 401);
    if (!DOMAIN.test(c.req.param("domain"))) return c.json({ error: "bad domain name" }, 400);
    await next();
  });
  app.get("/domains/:domain/dns", async (c) => c.json(await recordsForDomain(ctx(), c.req.param("domain"))));
  app.get("/domains/:domain/dns/check", async (c) => c.json(await checkDomain(ctx(), c.req.param("domain"))));
  app.get("/domains/:domain/dkim", async (c) => c.json(await keysOf(ctx(), c.req.param("domain"))));
  app.post("/domains/:domain/dkim/rotate", async (c) => {
    const body = (await c.req.json().catch(() => ({}))) as { step?: unknown };
    const step = body.step ?? "stage";
    if (step !== "stage" && step !== "activate" && step !== "prune") return c.json({ error: 'step must be "stage", "activate" or "prune"' }, 400);
    try {
      return c.json(await rotate(ctx(), c.req.param("domain"), step));
    } catch (e) {
      if (e instanceof NotLocalDomain) throw e;
      return c.json({ error: (e as Error).message }, 409);
    }
  });
  return app;
}
