// The mtasts plugin: MTA-STS (RFC 8461) for outbound mail. Before delivering to a domain,
// look up its `_mta-sts` TXT record, fetch and cache its policy; under `mode: enforce`
// deliver only to MX hosts the policy lists, over TLS with a valid certificate — else
// the mail waits (deferred with the reason) and bounces after delivery.maxAge.
import { readFileSync } from "node:fs";
import * as v from "valibot";
import { eq } from "drizzle-orm";
import { settings } from "../../core/db/schema.ts";
import * as dns from "node:dns";
import { DnsError, parseServer, resolverFromConfig } from "../../core/dns/index.ts";
import { daneFor } from "./dane.ts";
import { mxHops } from "../../core/delivery/mx.ts";
import { gzipSync } from "node:zlib";
import { definePlugin, pass, type Core, type SmtpTxn } from "../../core/types.ts";
import { fetchPolicy } from "./fetch.ts";
import { mxMatches, parseTxt, type Policy } from "./policy.ts";
import { classify, dayOf, forget, parseRua, pending, record, reportJson, reportMail } from "./tlsrpt.ts";

export const MtastsConfig = v.object({
  enforce: v.optional(v.pipe(v.boolean(), v.description("Honour recipient domains' MTA-STS policies on outbound mail (RFC 8461).")), true),
  dane: v.optional(
    v.pipe(v.boolean(), v.description("DANE (RFC 7672): when the resolver (dns.servers) validates DNSSEC and an MX host has TLSA records, deliver to it only over TLS with a matching certificate.")),
    true,
  ),
  reports: v.optional(v.pipe(v.boolean(), v.description("Count TLS results of outbound mail per domain and send the daily TLS-RPT report to domains that ask for it (RFC 8460).")), true),
  httpsPort: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(65535), v.description("Port of policy fetches (443; tests point it elsewhere).")), 443),
});

interface Cached {
  id: string;
  policy: Policy;
  expiresAt: number;
}

const key = (domain: string) => `mtasts.policy:${domain}`;

async function loadCached(core: Core, domain: string): Promise<Cached | undefined> {
  const rows = await core.db.orm
    .select()
    .from(settings)
    .where(eq(settings.key, key(domain)));
  return rows[0] ? (JSON.parse(rows[0].value) as Cached) : undefined;
}

async function saveCached(core: Core, domain: string, c: Cached): Promise<void> {
  const value = JSON.stringify(c);
  await core.db.write((tx) =>
    tx.orm
      .insert(settings)
      .values({ key: key(domain), value })
      .onConflictDoUpdate({ target: settings.key, set: { value } }),
  );
}

export default definePlugin({
  name: "mtasts",
  config: MtastsConfig,
  setup(core, cfg) {
    const resolver = resolverFromConfig(core.config);
    const ca = core.config.delivery.caFile ? [readFileSync(core.config.delivery.caFile, "utf8")] : undefined;
    const memory = new Map<string, Cached>();

    /** §5.1: the policy in force for a domain, from cache or freshly fetched; undefined = none. */
    async function policyOf(domain: string): Promise<Policy | undefined> {
      const now = Date.now();
      const cached = memory.get(domain) ?? (await loadCached(core, domain));
      const live = cached && cached.expiresAt > now ? cached : undefined;
      let id: string | undefined;
      try {
        id = parseTxt(await resolver.txt(`_mta-sts.${domain}`));
      } catch (e) {
        // No record: no (new) policy; a DNS failure: the cached one still holds.
        if (!(e instanceof DnsError) || e.temporary) return live?.policy;
      }
      if (!id) return live?.policy;
      if (live && live.id === id) return live.policy;
      try {
        const policy = await fetchPolicy(domain, { resolver, port: cfg.httpsPort, ca });
        const c: Cached = { id, policy, expiresAt: now + policy.maxAge * 1000 };
        memory.set(domain, c);
        await saveCached(core, domain, c);
        core.log.info("mta-sts policy fetched", { domain, mode: policy.mode, mx: policy.mx.join(","), maxAge: policy.maxAge });
        return policy;
      } catch (e) {
        core.log.warn("mta-sts policy fetch failed", { domain, err: (e as Error).message });
        return live?.policy;
      }
    }

    // DANE first: with authenticated TLSA records it takes precedence over MTA-STS (RFC 8461 §2).
    const daneServer = parseServer(core.config.dns.servers[0] ?? dns.getServers()[0] ?? "127.0.0.1");
    if (cfg.dane)
      core.hooks.on("nextHop", async (_msg, domain) => {
        let hops;
        try {
          hops = await mxHops(domain, resolver);
        } catch {
          return pass;
        }
        const tlsa = await daneFor(
          daneServer,
          domain,
          hops.map((h) => h.host),
        ).catch(() => undefined);
        if (!tlsa) return pass;
        return {
          kind: "hops",
          hops: hops.map((h) => {
            const recs = tlsa.get(h.host.toLowerCase());
            return recs ? { ...h, tlsa: recs } : h;
          }),
        };
      });

    if (cfg.enforce)
      core.hooks.on("nextHop", async (_msg, domain) => {
        const policy = await policyOf(domain.toLowerCase());
        // "testing" asks only for reports (TLS-RPT); "none" withdraws the policy.
        if (policy?.mode !== "enforce") return pass;
        const label = `MTA-STS policy of ${domain}`;
        let hops;
        try {
          hops = await mxHops(domain, resolver);
        } catch (e) {
          return { kind: "defer", reply: { code: 451, enhanced: "4.4.3", text: `${label}: MX lookup failed: ${(e as Error).message}` } };
        }
        const allowed = hops.filter((h) => mxMatches(h.host, policy.mx));
        if (allowed.length === 0)
          return {
            kind: "defer",
            reply: { code: 451, enhanced: "4.7.5", text: `${label} (enforce) lists none of its MX hosts (${hops.map((h) => h.host).join(", ")}); allowed: ${policy.mx.join(", ")}` },
          };
        return { kind: "hops", hops: allowed.map((h) => ({ ...h, verifyTls: label })) };
      });

    if (cfg.reports) setUpReports(core, (d) => memory.get(d)?.policy);
  },
});

const domainOf = (address: string) => address.slice(address.lastIndexOf("@") + 1).toLowerCase();

/** TLS-RPT: count results from the delivery hooks; send yesterday's reports once a day. */
function setUpReports(core: Core, policyOf: (domain: string) => Policy | undefined): void {
  const count = (recipient: string, result: Parameters<typeof record>[4]) => {
    const domain = domainOf(recipient);
    void record(core.db, Date.now(), domain, policyOf(domain), result).catch((e: Error) => core.log.warn("tls-rpt: could not count a result", { err: e.message }));
  };
  core.hooks.on("delivered", (info) => count(info.recipient, { ok: true }));
  const failed = (info: { recipient: string; error: string }) => {
    const c = classify(info.error);
    if (c) count(info.recipient, { ok: false, ...c });
  };
  core.hooks.on("deferred", (info) => void failed(info));
  core.hooks.on("bounced", (info) => failed(info));

  const resolver = resolverFromConfig(core.config);
  const submitter = core.config.hostname.toLowerCase();
  /** Send the reports of days before `beforeDay` (undefined: every day, today too). */
  async function sendReports(beforeDay: string | undefined): Promise<{ domain: string; day: string; to: string[] }[]> {
    const sent: { domain: string; day: string; to: string[] }[] = [];
    for (const p of await pending(core.db, beforeDay)) {
      const rua = parseRua(await resolver.txt(`_smtp._tls.${p.domain}`).catch(() => []));
      const reportId = `${p.day}.${crypto.randomUUID()}@${submitter}`;
      const json = reportJson({ domain: p.domain, day: p.day, agg: p.agg, submitter, reportId });
      const to: string[] = [];
      for (const uri of rua) {
        try {
          if (uri.startsWith("mailto:")) await queueReport(core, uri.slice(7), reportMail({ domain: p.domain, day: p.day, submitter, reportId, to: uri.slice(7), json, now: Date.now() }).raw);
          else {
            // §5.4: POST the gzipped report.
            const r = await fetch(uri, {
              method: "POST",
              headers: { "content-type": "application/tlsrpt+gzip" },
              body: gzipSync(Buffer.from(JSON.stringify(json))),
              signal: AbortSignal.timeout(30_000),
            });
            if (!r.ok) throw new Error(`HTTP ${r.status}`);
          }
          to.push(uri);
        } catch (e) {
          core.log.warn("tls-rpt: report not sent", { domain: p.domain, to: uri, err: (e as Error).message });
        }
      }
      await forget(core.db, p.key);
      sent.push({ domain: p.domain, day: p.day, to });
    }
    return sent;
  }
  // One instance sends (a singleton lease when several share the database).
  const hourly = async () => {
    if (await core.leases.hold("tlsrpt", 2 * 3_600_000)) await sendReports(dayOf(Date.now()));
  };
  const timer = setInterval(() => void hourly().catch((e: Error) => core.log.warn("tls-rpt: sending failed", { err: e.message })), 3_600_000);
  timer.unref?.();
  core.onShutdown(() => clearInterval(timer));
  core.hooks.on("http.routes", (app) => {
    // POST /api/admin/tlsrpt/send {"today": true}: send now (today's counts too when asked).
    app.post("/api/admin/tlsrpt/send", async (c) => {
      if (!c.get("adminUser" as never)) return c.json({ error: "admin login required" }, 401);
      const body = (await c.req.json().catch(() => ({}))) as { today?: unknown };
      return c.json({ sent: await sendReports(body.today === true ? undefined : dayOf(Date.now())) });
    });
  });
}

/** Queue a report like our bounces: routed by the `route` hook, null sender (never bounced). */
async function queueReport(core: Core, to: string, raw: Uint8Array): Promise<void> {
  const rcpt = { address: to, local: to.slice(0, to.lastIndexOf("@")), domain: domainOf(to), params: {} };
  const txn = { id: "tlsrpt", helo: core.config.hostname, mailFrom: { address: "", local: "", domain: "", params: {} }, rcpts: [rcpt], state: {}, internal: true } as unknown as SmtpTxn;
  const route = await core.hooks.first("route", txn, rcpt);
  if (!("local" in route)) throw new Error(`${to} does not route`);
  await core.spool.accept({ raw, prefix: [], mailFrom: "", local: route.local, remote: route.remote.map((r) => ({ address: r.address })), internal: true });
}
