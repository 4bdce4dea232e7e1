// The HTTP(S) server: health check, the admin API under /api/admin (bearer token kept in
// <data>/admin.token, mode 0600, made at first start) with the plugins' admin routes
// (Plugin.adminRoutes) under it, and whatever plugins mount through the `http.routes`
// hook. Served by Bun.serve beside the TCP listeners.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { Hono, type Context } from "hono";
import { bearerAuth } from "hono/bearer-auth";
import { bodyLimit } from "hono/body-limit";
import { HTTPException } from "hono/http-exception";
import { adminRoutes, type MethodTable } from "./http-admin.ts";
import { adminTokenIn } from "./paths.ts";
import type { ActivePlugin } from "./plugins.ts";
import { METRICS_CONTENT_TYPE, metricsText } from "./metrics.ts";
import type { AuthUser, Core, Listener } from "./types.ts";

/** The admin token: created once, readable only by the owner. */
export function adminToken(dataDir: string): string {
  const path = adminTokenIn(dataDir);
  if (existsSync(path)) return readFileSync(path, "utf8").trim();
  const token = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("hex");
  writeFileSync(path, token + "\n", { mode: 0o600 });
  return token;
}

export async function buildHttpApp(core: Core, plugins: ActivePlugin[], methods?: MethodTable): Promise<Hono> {
  const app = new Hono();
  app.onError((err, c) => {
    if (err instanceof HTTPException) return err.getResponse();
    core.log.error("http error", { path: c.req.path, err: err.message });
    return c.json({ error: "internal error" }, 500);
  });
  const limit = bodyLimit({ maxSize: 1024 * 1024, onError: (c) => c.json({ error: "request body too large" }, 413) });
  // JMAP uploads and requests carry their own, advertised limits (plugins/jmap config).
  app.use("*", (c, next) => (c.req.path.startsWith("/jmap/") ? next() : limit(c, next)));
  // 503 while the disk is full: reads work, but no mail can be accepted.
  app.get("/healthz", (c) => (core.db.readOnly ? c.text(`${core.db.readOnly}\n`, 503) : c.text("ok\n")));
  const token = adminToken(core.dataDir);
  // Prometheus scrapes with the admin token as bearer token (or metrics.listen, below).
  app.get("/metrics", bearerAuth({ token }), async (c) => c.body(await metricsText(), 200, { "content-type": METRICS_CONTENT_TYPE }));
  const bearer = bearerAuth({ token });
  const setAdmin = (c: Context, user: AuthUser) => c.set("adminUser" as never, user as never);
  app.use("/api/admin/*", async (c, next) => {
    // Plugins' admin sub-apps check for an admin on the context; the token holder is one.
    if (c.req.header("authorization") !== undefined)
      return bearer(c, async () => {
        setAdmin(c, { accountId: 0, address: "admin" });
        await next();
      });
    // Else an admin's web session (the http.auth hook); a write must carry its CSRF token.
    const who = await core.hooks.first("http.auth", c.req.raw);
    if (who.kind !== "user" || !who.admin) return c.json({ error: "admin token or admin login required" }, 401);
    if (!["GET", "HEAD", "OPTIONS"].includes(c.req.method) && c.req.header("x-csrf-token") !== who.csrf) return c.json({ error: "missing or wrong X-CSRF-Token header" }, 403);
    setAdmin(c, who.user);
    await next();
  });
  app.route("/api/admin", adminRoutes(core, methods));
  for (const { plugin, config } of plugins) if (plugin.adminRoutes) app.route("/api/admin", plugin.adminRoutes(core, config));
  await core.hooks.run("http.routes", app);
  app.notFound((c) => c.json({ error: "not found" }, 404));
  return app;
}

type TlsTable = { key: string; cert: string; serverName?: string }[];

/** Bun.serve's SNI table: the default pair first (clients without SNI), then one entry per
 *  name of each plugin certificate. */
async function tlsTable(core: Core): Promise<TlsTable> {
  const { fallback, named } = await core.tls.certificates();
  return [fallback, ...named.flatMap((c) => c.names.map((serverName) => ({ key: c.key, cert: c.cert, serverName })))];
}

/** Fail like a plain bind when the port is taken: SO_REUSEPORT (needed for the certificate
 *  swap below) would otherwise let a second server share it silently. */
async function assertFree(address: string, port: number): Promise<void> {
  if (port === 0) return;
  const net = await import("node:net");
  await new Promise<void>((res, rej) => {
    const probe = net.createServer();
    probe.once("error", rej);
    probe.listen({ port, host: address, exclusive: true }, () => probe.close(() => res()));
  });
}

/** Bind "http" (plain) and "https" (TLS, certificate by SNI). Bun.serve cannot change its
 *  certificates in place (reload() keeps the TLS setup): on a change a new server with
 *  the new table binds the same port (SO_REUSEPORT) and the old one stops accepting,
 *  letting its open requests finish. */
export async function serveHttp(core: Core, app: Hono, bind: { address: string; http: number; https: number }): Promise<Listener[]> {
  const out: Listener[] = [];
  const start = (port: number, tls: TlsTable | undefined, reusePort: boolean) =>
    // idleTimeout: JMAP's event source is a long response kept alive by pings (every 30 s
    // from the webmail); Bun's default of 10 s would cut it. 255 is Bun's maximum.
    Bun.serve({ hostname: bind.address, port, reusePort, fetch: app.fetch, tls, idleTimeout: 255, error: () => new Response("internal error", { status: 500 }) });
  for (const [name, port, secure] of [
    ["http", bind.http, false],
    ["https", bind.https, true],
  ] as const) {
    let server: ReturnType<typeof Bun.serve>;
    try {
      if (secure) await assertFree(bind.address, port);
      server = start(port, secure ? await tlsTable(core) : undefined, secure);
    } catch (err) {
      throw new Error(`cannot listen on ${bind.address}:${port} (${name}): ${(err as Error).message}`);
    }
    const bound = server.port ?? port;
    let unsubscribe = () => {};
    if (secure) {
      let swapping = Promise.resolve();
      const swap = async () => {
        const next = start(bound, await tlsTable(core), true);
        const old = server;
        server = next;
        // Open requests finish on the old server; a client reset there is not our error.
        old.stop(false).catch((err: Error) => core.log.debug("old https server stop", { err: err.message }));
        core.log.info("https certificates reloaded", { port: bound });
      };
      const off = core.tls.onChange(() => {
        swapping = swapping.then(swap).catch((err: Error) => core.log.error("https certificate reload failed", { err: err.message }));
      });
      unsubscribe = () => void off();
    }
    out.push({
      name,
      port: bound,
      address: bind.address,
      close: async () => {
        unsubscribe();
        await server.stop(true);
      },
    });
  }
  return out;
}

/** `metrics.listen`: a plain-HTTP listener that serves only /metrics, without a token —
 *  bind it to loopback or a monitoring network. */
export function serveMetrics(listen: string): Listener {
  const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(listen);
  if (!m) throw new Error(`metrics.listen must be "host:port", not "${listen}"`);
  const [, hostname, port] = m;
  let server: ReturnType<typeof Bun.serve>;
  try {
    server = Bun.serve({
      hostname,
      port: Number(port),
      fetch: async (req) =>
        new URL(req.url).pathname === "/metrics" ? new Response(await metricsText(), { headers: { "content-type": METRICS_CONTENT_TYPE } }) : new Response("not found\n", { status: 404 }),
    });
  } catch (err) {
    throw new Error(`cannot listen on ${listen} (metrics): ${(err as Error).message}`);
  }
  return { name: "metrics", port: server.port ?? Number(port), address: hostname!, close: async () => void (await server.stop(true)) };
}
