// The checks' environment from the running core (or the CLI's dry-run core): resolver,
// public addresses (config, else the wizard's correction), probes, the dns.records hook.
import { durationMs } from "../../core/config.ts";
import { resolverFromConfig, type Resolver } from "../../core/dns/index.ts";
import type { Core } from "../../core/types.ts";
import { certificateInfo } from "./certificate.ts";
import type { ChecksEnv } from "./checks.ts";
import type { ConsoleConfig } from "./config.ts";
import { getSetting } from "./setup-state.ts";

/** `live`: a serving core (certificate and queue are checked too). */
export async function checksEnvOf(core: Core, cfg: ConsoleConfig, resolver: Resolver = resolverFromConfig(core.config), live = false): Promise<ChecksEnv> {
  const saved = await getSetting(core.db, "console.publicAddresses");
  const relay = core.config.delivery.relay;
  return {
    hostname: core.config.hostname.toLowerCase(),
    resolver,
    publicAddresses: cfg.publicAddresses.length ? cfg.publicAddresses : saved ? (JSON.parse(saved) as string[]) : [],
    probeDomain: cfg.probeDomain,
    probePort: core.config.delivery.port,
    relay: (relay.url || relay.preset) && relay.domains.length === 0 ? relay.url || relay.preset : undefined,
    dnsblsV4: cfg.dnsblsV4,
    dnsblsV6: cfg.dnsblsV6,
    domainBls: cfg.domainBls,
    timeoutMs: durationMs(cfg.checkTimeout),
    records: async (domain) => (await core.hooks.all("dns.records", domain, true)).flat().filter(Boolean),
    ...(live ? { certificate: () => certificateInfo(core), queue: () => core.spool.list() } : {}),
  };
}
