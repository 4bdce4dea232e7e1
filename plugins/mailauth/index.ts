// The mailauth plugin: SPF/DKIM/ARC/DMARC checks on incoming mail (smtp.data), DKIM
// signatures (and ARC seals when forwarding) on outgoing mail (deliver.remote.before),
// `kotakpos dns …` (cli.ts) and the admin API for DNS records and key rotation (api.ts).
import { availableParallelism } from "node:os";
import { definePlugin, pass, type DataCheck } from "../../core/types.ts";
import { resolverFromConfig } from "../../core/dns/index.ts";
import { adminApp } from "./api.ts";
import { checkDomain, recordsForDomain } from "./service.ts";
import { dnsCommand } from "./cli.ts";
import { MailauthConfig } from "./config.ts";
import { forgedResults } from "./forged.ts";
import { parseRawHeader } from "./header.ts";
import { CheckDeadlineError, createCheckPool } from "./check-pool.ts";
import { createKeyCache, ensureKeys } from "./keys.ts";
import { signOutgoing } from "./outbound.ts";
import { mtaStsPolicy } from "./transport.ts";
import { ownDomainCheck } from "./own-domain.ts";
import type { MailauthContext } from "./service.ts";

/** SPF may take its full 20 s (RFC 7208 §4.6.4) before DMARC starts; the client waits up
 *  to 10 minutes for the reply to DATA (RFC 5321 §4.5.3.2.6). A timeout defers (451). */
const CHECK_TIMEOUT = { timeoutMs: 60_000 };
/** The checks run in worker threads (check-pool.ts); one still running after this long is
 *  stopped by terminating its worker, before the hook timeout. */
const CHECK_DEADLINE_MS = 50_000;
/** Leave a core to the event loop: checks of huge messages must not starve the sessions. */
const CHECK_WORKERS = Math.max(1, availableParallelism() - 1);

export default definePlugin({
  name: "mailauth",
  config: MailauthConfig,
  setup(core, cfg) {
    const resolver = resolverFromConfig(core.config);
    const keys = createKeyCache(core.db);
    const hostname = core.config.hostname;

    if (cfg.verify) {
      const pool = createCheckPool({ workers: CHECK_WORKERS, deadlineMs: CHECK_DEADLINE_MS, resolver: resolver.resolve, cachedUntil: resolver.cachedUntil, log: core.log });
      core.onShutdown(async () => pool.close());
      core.hooks.on(
        "smtp.data",
        async (txn, msg, { signal }): Promise<DataCheck> => {
          // Our own bounces are not checked (DESIGN.md).
          if (txn.internal) return { kind: "check", verdict: pass };
          // Authenticated submissions are not inbound mail; forged results are still dropped.
          if (txn.user) {
            const forged = forgedResults(parseRawHeader(msg.raw).fields, hostname);
            return { kind: "check", verdict: pass, ...(forged.length ? { removeHeaders: forged.map((f) => ({ start: f.start, end: f.end })) } : {}) };
          }
          const check = pool.check({ raw: msg.raw, ip: txn.conn.remoteAddress, helo: txn.helo, mailFrom: txn.mailFrom.address, hostname, trustedArcSealers: cfg.trustedArcSealers }, signal);
          // Shared with the other checks running in parallel (TxnState.dmarc).
          txn.state.dmarc = check.then(
            (x) => (x.dmarc ? { result: x.dmarc.status.result, domain: x.dmarc.domain } : null),
            () => null,
          );
          let r;
          try {
            r = await check;
          } catch (err) {
            if (!(err instanceof CheckDeadlineError)) throw err;
            txn.conn.log.warn("mailauth checks too slow", { txn: txn.id, err: err.message });
            return { kind: "check", verdict: { kind: "defer", reply: { code: 451, enhanced: "4.7.0", text: "Authentication checks (SPF/DKIM/DMARC) took too long, try again later" } } };
          }
          txn.conn.log.info("mailauth", {
            txn: txn.id,
            spf: r.spf.status.result,
            dkim: r.dkim.map((d) => `${d.status.result}:${d.signingDomain ?? ""}`).join(",") || "none",
            arc: r.arc?.status.result,
            dmarc: r.dmarc?.status.result,
            verdict: r.verdict.kind,
            forged: r.remove.length || undefined,
          });
          const own = await ownDomainCheck({
            mailFrom: txn.mailFrom.address,
            spf: r.spf.status.result,
            authors: r.dmarcAll.map((d) => ({ domain: (d.status.header?.from ?? d.domain).toLowerCase(), dmarc: d.status.result })),
            dkimPass: r.dkim.filter((d) => d.status.result === "pass" && d.signingDomain).map((d) => d.signingDomain!.toLowerCase()),
            isLocal: (d) => core.store.isLocalDomain(d),
          });
          if (own) {
            txn.conn.log.info("own domain spoofed", { txn: txn.id, ip: txn.conn.remoteAddress, from: txn.mailFrom.address, reason: own.reply.text });
            return { kind: "check", verdict: own, headers: [r.header] };
          }
          return { kind: "check", verdict: r.verdict, headers: [r.header], ...(r.remove.length ? { removeHeaders: r.remove } : {}) };
        },
        CHECK_TIMEOUT,
      );
    }

    if (cfg.sign) {
      core.hooks.on("deliver.remote.before", async (msg) => {
        const headers = await signOutgoing(msg, { keys, isLocal: (d) => core.store.isLocalDomain(d), hostname, arcSeal: cfg.arcSeal });
        return headers.length ? { kind: "headers", headers } : pass;
      });
    }

    // The records for the console's wizard and health checks (one list for all plugins).
    const ctx = (): MailauthContext => ({ db: core.db, config: core.config, mcfg: cfg, resolver });
    core.hooks.on("dns.records", async (domain, check) =>
      check ? (await checkDomain(ctx(), domain)).map((r) => ({ ...r.record, status: r.status, found: r.found, ...(r.detail ? { detail: r.detail } : {}) })) : await recordsForDomain(ctx(), domain),
    );

    core.hooks.on("http.routes", (app) => {
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
  commands: [dnsCommand],
  adminRoutes(core, cfg) {
    const ctx: MailauthContext = { db: core.db, config: core.config, mcfg: cfg, resolver: resolverFromConfig(core.config) };
    return adminApp(() => ctx);
  },
});
