// The HTTP(S) server: health check, the admin API under /api/admin (bearer token kept in
// <data>/admin.token, mode 0600, made at first start), and whatever plugins mount through
// the `http.routes` hook. Served by Bun.serve beside the TCP listeners.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Hono } from "hono";
import { bearerAuth } from "hono/bearer-auth";
import { bodyLimit } from "hono/body-limit";
import { HTTPException } from "hono/http-exception";
import { adminRoutes } from "./http-admin.ts";
import type { Core, Listener } from "./types.ts";

/** The admin token: created once, readable only by the owner. */
export function adminToken(dataDir: string): string {
  const path = join(dataDir, "admin.token");
  if (existsSync(path)) return readFileSync(path, "utf8").trim();
  const token = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("hex");
  writeFileSync(path, token + "\n", { mode: 0o600 });
  return token;
}

export async function buildHttpApp(core: Core): Promise<Hono> {
  const app = new Hono();
  app.onError((err, c) => {
    if (err instanceof HTTPException) return err.getResponse();
    core.log.error("http error", { path: c.req.path, err: err.message });
    return c.json({ error: "internal error" }, 500);
  });
  const limit = bodyLimit({ maxSize: 1024 * 1024, onError: (c) => c.json({ error: "request body too large" }, 413) });
  // JMAP uploads and requests carry their own, advertised limits (plugins/jmap config).
  app.use("*", (c, next) => (c.req.path.startsWith("/jmap/") ? next() : limit(c, next)));
  app.get("/healthz", (c) => c.text("ok\n"));
  const token = adminToken(core.dataDir);
  app.use("/api/admin/*", bearerAuth({ token }), async (c, next) => {
    // Plugins' admin sub-apps check for an admin on the context; the token holder is one.
    c.set("adminUser" as never, { accountId: 0, address: "admin" } as never);
    await next();
  });
  app.route("/api/admin", adminRoutes(core));
  await core.hooks.all("http.routes", app);
  app.notFound((c) => c.json({ error: "not found" }, 404));
  return app;
}

/** Bind "http" (plain) and "https" (TLS with the default certificate). */
export async function serveHttp(core: Core, app: Hono, bind: { address: string; http: number; https: number }): Promise<Listener[]> {
  const pem = await core.tls.certificateFor(undefined);
  const out: Listener[] = [];
  for (const [name, port, tls] of [
    ["http", bind.http, undefined],
    ["https", bind.https, { key: pem.key, cert: pem.cert }],
  ] as const) {
    let server: ReturnType<typeof Bun.serve>;
    try {
      server = Bun.serve({ hostname: bind.address, port, fetch: app.fetch, tls, error: () => new Response("internal error", { status: 500 }) });
    } catch (err) {
      throw new Error(`cannot listen on ${bind.address}:${port} (${name}): ${(err as Error).message}`);
    }
    out.push({ name, port: server.port ?? port, address: bind.address, close: async () => void (await server.stop(true)) });
  }
  return out;
}
