// The mtasts plugin: MTA-STS (RFC 8461) for outbound mail. Before delivering to a domain,
// look up its `_mta-sts` TXT record, fetch and cache its policy; under `mode: enforce`
// deliver only to MX hosts the policy lists, over TLS with a valid certificate — else
// the mail waits (deferred with the reason) and bounces after delivery.maxAge.
import { readFileSync } from "node:fs";
import * as v from "valibot";
import { eq } from "drizzle-orm";
import { settings } from "../../core/db/schema.ts";
import { DnsError, resolverFromConfig } from "../../core/dns/index.ts";
import { mxHops } from "../../core/delivery/mx.ts";
import { definePlugin, pass, type Core } from "../../core/types.ts";
import { fetchPolicy } from "./fetch.ts";
import { mxMatches, parseTxt, type Policy } from "./policy.ts";

export const MtastsConfig = v.object({
  enforce: v.optional(v.pipe(v.boolean(), v.description("Honour recipient domains' MTA-STS policies on outbound mail (RFC 8461).")), true),
  httpsPort: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(65535), v.description("Port of policy fetches (443; tests point it elsewhere).")), 443),
});

interface Cached {
  id: string;
  policy: Policy;
  expiresAt: number;
}

const key = (domain: string) => `mtasts.policy:${domain}`;

async function loadCached(core: Core, domain: string): Promise<Cached | undefined> {
  const rows = await core.db.orm.select().from(settings).where(eq(settings.key, key(domain)));
  return rows[0] ? (JSON.parse(rows[0].value) as Cached) : undefined;
}

async function saveCached(core: Core, domain: string, c: Cached): Promise<void> {
  const value = JSON.stringify(c);
  await core.db.write((tx) => tx.orm.insert(settings).values({ key: key(domain), value }).onConflictDoUpdate({ target: settings.key, set: { value } }));
}

export default definePlugin({
  name: "mtasts",
  config: MtastsConfig,
  setup(core, cfg) {
    if (!cfg.enforce) return;
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

    core.hooks.on("nextHop", async (_msg, domain) => {
      const policy = await policyOf(domain.toLowerCase());
      // "testing" asks only for reports (TLS-RPT, not built); "none" withdraws the policy.
      if (!policy || policy.mode !== "enforce") return pass;
      const label = `MTA-STS policy of ${domain}`;
      let hops;
      try {
        hops = await mxHops(domain, resolver);
      } catch (e) {
        return { kind: "defer", reply: { code: 451, enhanced: "4.4.3", text: `${label}: MX lookup failed: ${(e as Error).message}` } };
      }
      const allowed = hops.filter((h) => mxMatches(h.host, policy.mx));
      if (allowed.length === 0)
        return { kind: "defer", reply: { code: 451, enhanced: "4.7.5", text: `${label} (enforce) lists none of its MX hosts (${hops.map((h) => h.host).join(", ")}); allowed: ${policy.mx.join(", ")}` } };
      return { kind: "hops", hops: allowed.map((h) => ({ ...h, verifyTls: label })) };
    });
  },
});
