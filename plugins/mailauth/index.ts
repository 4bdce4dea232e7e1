// The mailauth plugin: SPF/DKIM/ARC/DMARC checks on incoming mail (smtp.data), DKIM
// signatures (and ARC seals when forwarding) on outgoing mail (deliver.remote.before),
// and the admin API for DNS records and key rotation (http.routes).
import { definePlugin, pass, type DataCheck } from "../../core/types.ts";
import { resolverFromConfig } from "../../core/dns/index.ts";
import { adminApp } from "./api.ts";
import { MailauthConfig } from "./config.ts";
import { forgedResults } from "./forged.ts";
import { parseRawHeader } from "./header.ts";
import { checkInbound } from "./inbound.ts";
import { createKeyCache, ensureKeys } from "./keys.ts";
import { signOutgoing } from "./outbound.ts";
import { mtaStsPolicy } from "./transport.ts";
import type { MailauthContext } from "./service.ts";

/** SPF may take its full 20 s (RFC 7208 §4.6.4) before DMARC starts; the client waits up
 *  to 10 minutes for the reply to DATA (RFC 5321 §4.5.3.2.6). A timeout defers (451). */
const CHECK_TIMEOUT = { timeoutMs: 60_000 };

export default definePlugin({
  name: "mailauth",
  config: MailauthConfig,
  setup(core, cfg) {
    const resolver = resolverFromConfig(core.config);
    const keys = createKeyCache(core.db);
    const hostname = core.config.hostname;
    const ctx = (): MailauthContext => ({ db: core.db, config: core.config, mcfg: cfg, resolver });

    if (cfg.verify) {
      core.hooks.on("smtp.data", async (txn, msg): Promise<DataCheck> => {
        // Our own bounces are not checked (DESIGN.md).
        if (txn.internal) return { verdict: pass };
        // Authenticated submissions are not inbound mail; forged results are still dropped.
        if (txn.user) {
          const forged = forgedResults(parseRawHeader(msg.raw).fields, hostname);
          return { verdict: pass, ...(forged.length ? { removeHeaders: forged.map((f) => ({ start: f.start, end: f.end })) } : {}) };
        }
        const r = await checkInbound({
          raw: msg.raw,
          ip: txn.conn.remoteAddress,
          helo: txn.helo,
          mailFrom: txn.mailFrom.address,
          hostname,
          resolver: resolver.resolve,
          trustedArcSealers: cfg.trustedArcSealers,
        });
        txn.conn.log.info("mailauth", {
          txn: txn.id,
          spf: r.spf.status.result,
          dkim: r.dkim.map((d) => `${d.status.result}:${d.signingDomain ?? ""}`).join(",") || "none",
          arc: r.arc?.status.result,
          dmarc: r.dmarc?.status.result,
          verdict: r.verdict.kind,
          forged: r.remove.length || undefined,
        });
        return { verdict: r.verdict, headers: [r.header], ...(r.remove.length ? { removeHeaders: r.remove } : {}) };
      }, CHECK_TIMEOUT);
    }

    if (cfg.sign) {
      core.hooks.on("deliver.remote.before", async (msg) => {
        const headers = await signOutgoing(msg, { keys, isLocal: (d) => core.store.isLocalDomain(d), hostname, arcSeal: cfg.arcSeal });
        return headers.length ? { headers } : {};
      });
    }

    core.hooks.on("http.routes", (app) => {
      app.route("/api/admin", adminApp(ctx));
      // RFC 8461 §3.3: the policy at https://mta-sts.<domain>/.well-known/mta-sts.txt.
      app.get("/.well-known/mta-sts.txt", async (c) => {
        const host = (c.req.header("host") ?? "").toLowerCase().replace(/:\d+$/, "");
        const domain = host.startsWith("mta-sts.") ? host.slice("mta-sts.".length) : "";
        if (!domain || !(await core.store.isLocalDomain(domain))) return c.text("no MTA-STS policy here\n", 404);
        return c.text(mtaStsPolicy(cfg.mtaSts, hostname), 200, { "content-type": "text/plain; charset=utf-8", "cache-control": "max-age=3600" });
      });
    });

    // No "domain added" event exists: keys are made lazily (first signature, `kotakpos dns`,
    // the admin API) and here for the domains that exist at start, in the background.
    void (async () => {
      for (const d of await core.store.listDomains()) {
        if (core.closing.aborted) return;
        await ensureKeys(core.db, d.name);
      }
    })().catch((err) => core.log.warn("DKIM key generation failed", { err: (err as Error).message }));
  },
});
