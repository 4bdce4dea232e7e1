// The web console: setup wizard, login (sessions, CSRF, TOTP), account and admin pages,
// health checks with alerts, client autoconfig — mounted through `http.routes`, rendered
// on the server (hono/jsx) with one embedded stylesheet and one tiny script.
// It also answers `http.auth` (a request's session, for the JMAP and webmail plugins)
// and `auth` (app passwords; with two-factor login on, the main password works only on
// the web), and contributes the setup URL to the start-up banner.
import type { Hono } from "hono";
import { durationMs } from "../../core/config.ts";
import { resolverFromConfig } from "../../core/dns/index.ts";
import { definePlugin, pass, type AuthResult } from "../../core/types.ts";
import css from "../../webui/console/console.css" with { type: "text" };
import js from "../../webui/console/console.js" with { type: "text" };
import { createActivity } from "./activity.ts";
import { adminApiClient } from "./admin-api.ts";
import { autoconfigRoutes } from "./autoconfig.ts";
import { checkCommand } from "./cli.ts";
import { runChecks } from "./checks.ts";
import { checksEnvOf } from "./env.ts";
import { ConsoleConfig } from "./config.ts";
import { guard, type ConsoleCtx, type Env } from "./context.ts";
import { alertMessage, createHealth } from "./health.ts";
import { accountRoutes } from "./routes-account.tsx";
import { importRoutes } from "./routes-import.tsx";
import { adminPageRoutes } from "./routes-admin.tsx";
import { moreAdminRoutes } from "./routes-admin-more.tsx";
import { accountAdminRoutes } from "./routes-admin-accounts.tsx";
import { queueAdminRoutes } from "./routes-admin-queue.tsx";
import { loginRoutes } from "./routes-login.tsx";
import { setupRoutes } from "./routes-setup.tsx";
import { createSecurity } from "./security.ts";
import { createSessions } from "./sessions.ts";
import { createSetupState } from "./setup-state.ts";

const BAD_CREDENTIALS = { code: 535, enhanced: "5.7.8", text: "Authentication credentials invalid (two-factor login is on: use an app password)" };

export default definePlugin({
  name: "console",
  config: ConsoleConfig,
  commands: [checkCommand],
  setup(core, cfg) {
    const resolver = resolverFromConfig(core.config);
    const sessions = createSessions(core.db);
    const security = createSecurity(core.db);
    const setup = createSetupState(core.db, core.dataDir);

    const checksEnv = () => checksEnvOf(core, cfg, resolver, true);

    const health = createHealth({
      db: core.db,
      log: core.log,
      run: async () =>
        runChecks(
          await checksEnv(),
          (await core.store.listDomains()).map((d) => d.name),
        ),
      // One message to the admins listing only what changed, delivered to their inboxes.
      alert: async (changes) => {
        const admins = (await Promise.all((await security.admins()).map((id) => core.store.getAccountById(id)))).filter((a) => a && !a.disabled);
        if (admins.length === 0) return;
        const domain = (await core.store.listDomains())[0]?.name ?? core.config.hostname;
        const raw = alertMessage(
          changes,
          `postmaster@${domain}`,
          admins.map((a) => a!.address),
          core.config.hostname,
        );
        await core.spool.accept({ raw: new TextEncoder().encode(raw), prefix: [], mailFrom: "", local: admins.map((a) => ({ accountId: a!.id, mailbox: "INBOX" })), remote: [], internal: true });
        core.log.info("health alert sent", { changes: changes.map((c) => c.check.id).join(","), to: admins.length });
      },
    });

    const activity = createActivity(core.hooks, core.store);
    const ctx: ConsoleCtx = {
      core,
      cfg,
      sessions,
      security,
      setup,
      health,
      checksEnv,
      runChecks: async () =>
        runChecks(
          await checksEnv(),
          (await core.store.listDomains()).map((d) => d.name),
        ),
    };

    // App passwords for IMAP/POP3/SMTP; with TOTP on, only they work outside the web.
    core.hooks.on("auth", async (conn, cred): Promise<AuthResult> => {
      if (conn?.service === "web") return pass;
      if (cred.authzid && cred.authzid.toLowerCase() !== cred.username.toLowerCase()) return pass;
      const acct = await core.store.getAccount(cred.username);
      if (!acct || acct.disabled) return pass;
      if (await security.matchAppPassword(acct.id, cred.password)) {
        conn?.log.info("auth ok", { user: acct.address, mech: cred.mechanism, via: "app password" });
        return { kind: "user", user: { accountId: acct.id, address: acct.address } };
      }
      if ((await security.state(acct.id)).totpEnabled) {
        conn?.log.info("auth refused: two-factor login is on", { user: acct.address, mech: cred.mechanism });
        return { kind: "reject", reply: BAD_CREDENTIALS };
      }
      return pass;
    });

    // The session behind a web request, for other plugins (see DESIGN.md "Web sessions").
    core.hooks.on("http.auth", async (req) => {
      const s = await sessions.fromRequest(req);
      if (!s?.complete) return pass;
      const acct = await core.store.getAccountById(s.accountId);
      if (!acct || acct.disabled) return pass;
      return { kind: "user", user: { accountId: acct.id, address: acct.address }, admin: await security.isAdmin(acct.id), csrf: s.csrf };
    });

    core.hooks.on("banner", async (web) => {
      const token = await setup.token();
      if (!token) return [];
      const base = web.https ?? web.http;
      return base ? [`finish setup in a browser: ${base}/setup?token=${token}  (token also in ${core.dataDir}/setup.token)`] : [];
    });

    core.hooks.on("http.routes", async (root) => {
      // A serving server without setup done has its token file from the first start on.
      await setup.token();
      const app = root as unknown as Hono<Env>;
      const asset = (body: string, type: string) => () => new Response(body, { headers: { "Content-Type": type, "Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff" } });
      app.get("/console/console.css", asset(css, "text/css; charset=utf-8"));
      app.get("/console/console.js", asset(js, "text/javascript; charset=utf-8"));
      ctx.api = adminApiClient(root, core.dataDir);
      guard(app, ctx, ["/setup", "/login", "/logout", "/account", "/admin"]);
      app.get("/", (c) => c.redirect("/login", 303));
      loginRoutes(app, ctx);
      setupRoutes(app, ctx);
      accountRoutes(app, ctx);
      importRoutes(app, ctx);
      adminPageRoutes(app, ctx, activity);
      accountAdminRoutes(app, ctx);
      queueAdminRoutes(app, ctx, activity);
      moreAdminRoutes(app, ctx, ctx.api);
      autoconfigRoutes(root, core);
    });

    // The checks run at start (in the background) and every healthInterval, once the
    // server has an admin to tell (setup done): a bare test or CLI server probes nothing.
    const tick = async () => {
      if ((await security.admins()).length === 0) return;
      // One instance checks (a singleton lease when several share the database).
      if (!(await core.leases.hold("health", 2 * durationMs(cfg.healthInterval)))) return;
      await health.run();
    };
    const runTick = () => void tick().catch((e) => core.log.warn("health checks failed", { err: (e as Error).message }));
    const first = setTimeout(runTick, 2000);
    const timer = setInterval(runTick, durationMs(cfg.healthInterval));
    return () => {
      clearTimeout(first);
      clearInterval(timer);
    };
  },
});
