// The core's admin API (mounted at /api/admin behind the admin token): domains, users and
// the queue — the same operations as the CLI, for scripts and the web UI.
import { Hono, type Context } from "hono";
import * as v from "valibot";
import { isStoreError } from "./store/errors.ts";
import type { Core } from "./types.ts";

const DomainBody = v.object({ name: v.pipe(v.string(), v.minLength(1), v.maxLength(253)) });
const UserBody = v.object({
  address: v.pipe(v.string(), v.regex(/^[^@\s]+@[^@\s]+$/, "an address like user@example.com")),
  password: v.pipe(v.string(), v.minLength(8, "a password of at least 8 characters")),
});
const DisabledBody = v.object({ disabled: v.boolean() });
const CallBody = v.object({ args: v.optional(v.array(v.unknown()), []) });
const PasswordBody = v.object({ password: v.pipe(v.string(), v.minLength(8, "a password of at least 8 characters")) });

async function body<S extends v.GenericSchema>(c: Context, schema: S): Promise<v.InferOutput<S> | Response> {
  const raw = await c.req.json().catch(() => undefined);
  const r = v.safeParse(schema, raw);
  if (r.success) return r.output;
  const i = r.issues[0];
  return c.json({ error: `${v.getDotPath(i) ?? "body"}: ${i.message}` }, 400);
}

/** A plugin's admin method by "<plugin>.<method>" (the control socket's table). */
export type MethodTable = Map<string, (...args: unknown[]) => Promise<unknown>>;

export function adminRoutes(core: Core, methods: MethodTable = new Map()): Hono {
  const { store, spool } = core;
  const app = new Hono();
  app.onError((err, c) => {
    if (isStoreError(err)) {
      const status = err.code === "NONEXISTENT" ? 404 : err.code === "INVALID" ? 400 : 409;
      return c.json({ error: err.message }, status);
    }
    core.log.error("admin api error", { path: c.req.path, err: err.message });
    return c.json({ error: "internal error" }, 500);
  });

  app.get("/domains", async (c) => c.json(await store.listDomains()));
  app.post("/domains", async (c) => {
    const b = await body(c, DomainBody);
    return b instanceof Response ? b : c.json(await store.addDomain(b.name), 201);
  });
  app.delete("/domains/:name", async (c) => ((await store.deleteDomain(c.req.param("name"))) ? c.body(null, 204) : c.json({ error: "no such domain" }, 404)));

  app.get("/users", async (c) => c.json(await store.listAccounts(c.req.query("domain") || undefined)));
  app.post("/users", async (c) => {
    const b = await body(c, UserBody);
    return b instanceof Response ? b : c.json(await store.createAccount(b.address, b.password), 201);
  });
  app.put("/users/:address/password", async (c) => {
    const b = await body(c, PasswordBody);
    if (b instanceof Response) return b;
    return (await store.setPassword(c.req.param("address"), b.password)) ? c.body(null, 204) : c.json({ error: "no such user" }, 404);
  });
  app.put("/users/:address/disabled", async (c) => {
    const b = await body(c, DisabledBody);
    if (b instanceof Response) return b;
    return (await store.setDisabled(c.req.param("address"), b.disabled)) ? c.body(null, 204) : c.json({ error: "no such user" }, 404);
  });
  app.delete("/users/:address", async (c) => ((await store.deleteAccount(c.req.param("address"))) ? c.body(null, 204) : c.json({ error: "no such user" }, 404)));

  app.get("/queue", async (c) => c.json(await spool.list()));
  app.get("/queue/:id", async (c) => {
    const rows = await spool.get(c.req.param("id"));
    return rows.length ? c.json(rows) : c.json({ error: "no such message in the queue" }, 404);
  });
  app.post("/queue/:id/retry", async (c) => c.json({ retried: await spool.retry(c.req.param("id")) }));
  app.post("/queue/:id/bounce", async (c) => {
    const n = await spool.bounce(c.req.param("id"));
    return n ? c.json({ bounced: n }) : c.json({ error: "no recipient of this message is waiting in the queue" }, 404);
  });
  app.delete("/queue/:id", async (c) => {
    const n = await spool.delete(c.req.param("id"));
    return n ? c.json({ deleted: n }) : c.json({ error: "no such message in the queue" }, 404);
  });
  // The plugins' admin methods, as over the control socket: {"args": [...]} → {"result"}.
  app.post("/methods/:method", async (c) => {
    const fn = methods.get(c.req.param("method"));
    if (!fn) return c.json({ error: `unknown admin method ${c.req.param("method")}` }, 404);
    const b = await body(c, CallBody);
    if (b instanceof Response) return b;
    try {
      return c.json({ result: (await fn(...b.args)) ?? null });
    } catch (e) {
      return c.json({ error: (e as Error).message }, 400);
    }
  });
  return app;
}
