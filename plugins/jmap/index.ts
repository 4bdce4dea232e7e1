// JMAP (RFC 8620 core, RFC 8621 mail) over HTTP, mounted through `http.routes`: the
// session at /.well-known/jmap and /jmap/session, POST /jmap/api, upload, download and the
// event source. Reads and writes go through the core Store only, so IMAP and POP3
// sessions see JMAP changes at once and the other way round.
import { join } from "node:path";
import type { Context, Hono } from "hono";
import { definePlugin, type AuthUser, type Core } from "../../core/types.ts";
import { handleApi } from "./api.ts";
import { authenticate, unauthorized } from "./auth.ts";
import { createUploads, readBlob } from "./blobs.ts";
import { JmapConfigSchema, type JmapConfig } from "./config.ts";
import { accountIdOf, type Method } from "./context.ts";
import { emailGet } from "./email.ts";
import { emailSetMethods } from "./email-set.ts";
import { moreEmailMethods } from "./email-more.ts";
import { queryMethods } from "./email-query.ts";
import { problem } from "./errors.ts";
import { mailboxMethods } from "./mailbox.ts";
import { identityMethods } from "./identity.ts";
import { submissionMethods } from "./submission.ts";
import { startVacation, vacationMethods } from "./vacation.ts";
import { eventSource } from "./push.ts";
import { sessionObject, sessionStateOf } from "./session.ts";

const echo: Method = async (args) => args;

export function mountJmap(core: Core, cfg: JmapConfig, app: Hono): void {
  const uploads = createUploads(join(core.dataDir, "jmap-uploads"), cfg.uploadTtlMs);
  const sweep = setInterval(() => uploads.sweep(), Math.min(cfg.uploadTtlMs, 3600_000));
  sweep.unref?.();
  core.onShutdown(() => clearInterval(sweep));
  const methods = new Map<string, Method>(
    Object.entries({
      "Core/echo": echo,
      ...mailboxMethods,
      ...emailGet,
      ...queryMethods,
      ...emailSetMethods(uploads),
      ...moreEmailMethods(uploads),
      ...identityMethods,
      ...submissionMethods(),
      ...vacationMethods,
    }),
  );
  const inFlight = new Map<number, number>();

  /** Runs `fn` for an authenticated user; 401/429 otherwise. */
  const authed = async (c: Context, fn: (user: AuthUser) => Promise<Response>): Promise<Response> => {
    const a = await authenticate(core, c);
    if (!a.ok) return unauthorized(a.status, a.text, c.req.header("x-csrf-token") === undefined);
    return fn(a.user);
  };
  const origin = (c: Context) => new URL(c.req.url).origin;

  const session = (c: Context) => authed(c, async (user) => Response.json(sessionObject(cfg, user, origin(c), true), { headers: { "cache-control": "no-cache, no-store" } }));
  app.get("/.well-known/jmap", session);
  app.get("/jmap/session", session);

  app.post("/jmap/api", (c) =>
    authed(c, async (user) => {
      const n = inFlight.get(user.accountId) ?? 0;
      if (n >= cfg.maxConcurrentRequests) return problem("limit", "too many concurrent requests", { limit: "maxConcurrentRequests" });
      inFlight.set(user.accountId, n + 1);
      try {
        const len = Number(c.req.header("content-length") ?? "0");
        if (len > cfg.maxSizeRequest) return problem("limit", "request too large", { limit: "maxSizeRequest" });
        const body = await c.req.text();
        const t0 = performance.now();
        const res = await handleApi({ core, cfg, methods, sessionState: async (u) => sessionStateOf(u) }, user, body);
        // Server time of the method calls (W3C Server-Timing), read by scripts/bench/jmap.ts.
        res.headers.set("server-timing", `app;dur=${(performance.now() - t0).toFixed(2)}`);
        return res;
      } finally {
        const left = (inFlight.get(user.accountId) ?? 1) - 1;
        if (left <= 0) inFlight.delete(user.accountId);
        else inFlight.set(user.accountId, left);
      }
    }),
  );

  app.post("/jmap/upload/:accountId/", (c) =>
    authed(c, async (user) => {
      if (c.req.param("accountId") !== accountIdOf(user.accountId)) return Response.json({ type: "about:blank", status: 403, detail: "not your account" }, { status: 403 });
      const len = Number(c.req.header("content-length") ?? "0");
      if (len > cfg.maxSizeUpload) return problem("limit", `uploads are limited to ${cfg.maxSizeUpload} bytes`, { limit: "maxSizeUpload" });
      const data = new Uint8Array(await c.req.arrayBuffer());
      if (data.length > cfg.maxSizeUpload) return problem("limit", `uploads are limited to ${cfg.maxSizeUpload} bytes`, { limit: "maxSizeUpload" });
      const blobId = await uploads.put(user.accountId, data);
      return Response.json({ accountId: accountIdOf(user.accountId), blobId, type: c.req.header("content-type") ?? "application/octet-stream", size: data.length }, { status: 201 });
    }),
  );

  app.get("/jmap/download/:accountId/:blobId/:name", (c) =>
    authed(c, async (user) => {
      if (c.req.param("accountId") !== accountIdOf(user.accountId)) return Response.json({ type: "about:blank", status: 404, detail: "no such blob" }, { status: 404 });
      const data = await readBlob(core.store, uploads, user.accountId, c.req.param("blobId"));
      if (!data) return Response.json({ type: "about:blank", status: 404, detail: "no such blob" }, { status: 404 });
      const type = c.req.query("type") || "application/octet-stream";
      const name = c.req.param("name");
      return new Response(data, {
        headers: {
          "content-type": /^[\w.+-]+\/[\w.+-]+(;.*)?$/.test(type) ? type : "application/octet-stream",
          "content-disposition": `attachment; filename*=UTF-8''${encodeURIComponent(name)}`,
          "cache-control": "private, immutable, max-age=31536000",
        },
      });
    }),
  );

  app.get("/jmap/eventsource", (c) => authed(c, async (user) => eventSource(core, user, new URL(c.req.url), c.req.raw.signal)));
}

export default definePlugin({
  name: "jmap",
  config: JmapConfigSchema,
  setup(core, cfg) {
    core.hooks.on("http.routes", (app) => mountJmap(core, cfg, app), { plugin: "jmap" });
    const stop = startVacation(core);
    return stop;
  },
});
