// The admin HTTP API of aliases (used by the web UI), mounted under /api/admin by the core
// (Plugin.adminRoutes). Refuses every request unless the HTTP server's admin authentication has put the
// admin on the context (`c.set("adminUser", user)`): mounted without it, it stays shut.
import { Hono, type Context } from "hono";
import { bodyLimit } from "hono/body-limit";
import * as v from "valibot";
import type { AliasesDb } from "./directory.ts";
import type { AdminEnv } from "../../core/types.ts";
import { AliasAdminError, addAlias, addDomainAlias, getAlias, listAliases, listDomainAliases, removeAlias, removeDomainAlias } from "./admin.ts";
import type { ExpandConfig } from "./expand.ts";

export type { AdminEnv };

const Address = v.pipe(v.string(), v.maxLength(320));
const AliasBody = v.object({
  address: Address,
  targets: v.optional(v.pipe(v.array(Address), v.maxLength(10_000)), []),
  kind: v.optional(v.picklist(["alias", "group"])),
  membersOnly: v.optional(v.boolean()),
  senders: v.optional(v.pipe(v.array(Address), v.maxLength(1000))),
  replace: v.optional(v.boolean()),
});
const DomainAliasBody = v.object({ domain: v.pipe(v.string(), v.maxLength(253)), target: v.pipe(v.string(), v.maxLength(253)) });
const RemoveBody = v.object({ targets: v.optional(v.pipe(v.array(Address), v.maxLength(10_000)), []) });

async function json<S extends v.GenericSchema>(c: Context, schema: S): Promise<v.InferOutput<S> | Response> {
  let raw: unknown;
  try {
    raw = await c.req.json();
  } catch {
    return c.json({ error: "the body must be JSON" }, 400);
  }
  const r = v.safeParse(schema, raw);
  if (!r.success) return c.json({ error: r.issues.map((i) => `${v.getDotPath(i) ?? "body"}: ${i.message}`).join("; ") }, 400);
  return r.output;
}

/** Admin errors (bad input, loops …) → 400 with the message; anything else → 500. */
async function run(c: Context, fn: () => Promise<Response>): Promise<Response> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof AliasAdminError) return c.json({ error: e.message }, e.code === "NONEXISTENT" ? 404 : 400);
    throw e;
  }
}

export function aliasesApi(ad: AliasesDb, expand: Partial<ExpandConfig>): Hono<AdminEnv> {
  const app = new Hono<AdminEnv>();
  // "/x/*" also matches "/x" itself.
  app.use("/aliases/*", guard);
  app.use("/domain-aliases/*", guard);

  app.get("/aliases", async (c) => c.json({ aliases: await listAliases(ad, { domain: c.req.query("domain") || undefined }) }));

  app.get("/aliases/:address", (c) =>
    run(c, async () => {
      const row = await getAlias(ad, c.req.param("address"), expand);
      return row ? c.json({ alias: row }) : c.json({ error: "no such alias" }, 404);
    }),
  );

  app.post("/aliases", (c) =>
    run(c, async () => {
      const body = await json(c, AliasBody);
      if (body instanceof Response) return body;
      const row = await addAlias(ad, body, { replace: body.replace, expand });
      return c.json({ alias: row }, 201);
    }),
  );

  app.delete("/aliases/:address", (c) =>
    run(c, async () => {
      // Optional body {targets: [...]}: remove only those targets.
      let targets: string[] = [];
      if (c.req.header("content-type")?.includes("json")) {
        const body = await json(c, RemoveBody);
        if (body instanceof Response) return body;
        targets = body.targets;
      }
      const r = await removeAlias(ad, c.req.param("address"), targets, expand);
      return c.json({ deleted: r.deleted, alias: r.row });
    }),
  );

  app.get("/domain-aliases", async (c) => c.json({ domainAliases: await listDomainAliases(ad) }));

  app.post("/domain-aliases", (c) =>
    run(c, async () => {
      const body = await json(c, DomainAliasBody);
      if (body instanceof Response) return body;
      return c.json({ domainAlias: await addDomainAlias(ad, body.domain, body.target) }, 201);
    }),
  );

  app.delete("/domain-aliases/:domain", async (c) => ((await removeDomainAlias(ad, c.req.param("domain"))) ? c.json({ deleted: true }) : c.json({ error: "no such domain alias" }, 404)));
  return app;
}

const limit = bodyLimit({ maxSize: 1024 * 1024, onError: (c) => c.json({ error: "body too large" }, 413) });

async function guard(c: Context<AdminEnv>, next: () => Promise<void>): Promise<Response | void> {
  if (!c.get("adminUser")) return c.json({ error: "admin login required" }, 401);
  return limit(c, next);
}
