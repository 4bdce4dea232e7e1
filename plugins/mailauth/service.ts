// What the CLI and the admin API share: the records of a local domain (creating its DKIM
// keys on first use), the check, and key rotation.
import { relayApplies, relaySpec } from "../../core/delivery/relay.ts";
import { eq } from "drizzle-orm";
import { domainToUnicode } from "node:url";
import { clientPort, type Config } from "../../core/config.ts";
import type { Db } from "../../core/db/open.ts";
import { domains } from "../../core/db/schema.ts";
import { resolverFromConfig, type Resolver } from "../../core/dns/index.ts";
import type { MailauthConfig } from "./config.ts";
import { activateRotation, ensureKeys, listKeys, pruneRetired, stageRotation, type DkimKey } from "./keys.ts";
import { checkRecords, domainRecords, type CheckResult, type DnsRecord } from "./records.ts";
import { hostCertificate, mtaStsId, mtaStsPolicy, spkiSha256 } from "./transport.ts";

export interface MailauthContext {
  db: Db;
  config: Config;
  mcfg: MailauthConfig;
  /** Defaults to the configured resolver. */
  resolver?: Resolver;
}

export class NotLocalDomain extends Error {
  constructor(readonly domain: string) {
    super(`${domain} is not a local domain`);
  }
}

export async function isLocalDomain(db: Db, domain: string): Promise<boolean> {
  const rows = await db.orm.select({ id: domains.id }).from(domains).where(eq(domains.name, domain.toLowerCase())).limit(1);
  return rows.length > 0;
}

/** Local domains are stored in lower-case U-label form; accept the A-label spelling too. */
export const normalizeDomain = (d: string): string => {
  const lower = d.toLowerCase().replace(/\.$/, "");
  return domainToUnicode(lower) || lower;
};

async function localKeys(ctx: MailauthContext, domain: string): Promise<DkimKey[]> {
  domain = normalizeDomain(domain);
  if (!(await isLocalDomain(ctx.db, domain))) throw new NotLocalDomain(domain);
  return ensureKeys(ctx.db, domain);
}

/** The SPF include of the configured relay preset, when this domain's mail goes through it. */
function relayInclude(config: MailauthContext["config"], domain: string): string | undefined {
  try {
    const spec = relaySpec(config.delivery.relay);
    return spec && relayApplies(config.delivery.relay, `postmaster@${domain}`) ? spec.spfInclude : undefined;
  } catch {
    return undefined; // a bad relay setting is reported by delivery and `kotakpos relay test`
  }
}

/** The ports mail apps use (core/config.ts clientPort), for the RFC 6186 SRV records. */
function clientPorts(config: Config): NonNullable<Parameters<typeof domainRecords>[0]["ports"]> {
  const port = (name: string, std: number) => clientPort(config, name, std);
  return { submissions: port("submissions", 465), submission: port("submission", 587), imaps: port("imaps", 993), pop3s: port("pop3s", 995) };
}

export async function recordsForDomain(ctx: MailauthContext, domain: string): Promise<DnsRecord[]> {
  domain = normalizeDomain(domain);
  const keys = await localKeys(ctx, domain);
  return domainRecords({
    domain,
    hostname: ctx.config.hostname,
    keys,
    ipv4: ctx.mcfg.ipv4,
    ipv6: ctx.mcfg.ipv6,
    dmarcPolicy: ctx.mcfg.dmarcPolicy,
    dmarcRua: ctx.mcfg.dmarcReports,
    mtaStsId: mtaStsId(mtaStsPolicy(ctx.mcfg.mtaSts, ctx.config.hostname)),
    tlsRptAddress: ctx.mcfg.tlsReports || `postmaster@${domain}`,
    tlsaSpki: await hostCertificate(ctx.db, ctx.config)
      .then((pem) => (pem ? spkiSha256(pem) : undefined))
      .catch(() => undefined),
    spfInclude: relayInclude(ctx.config, domain),
    ports: clientPorts(ctx.config),
  });
}

export async function checkDomain(ctx: MailauthContext, domain: string): Promise<CheckResult[]> {
  const records = await recordsForDomain(ctx, domain);
  return checkRecords(records, { resolver: ctx.resolver ?? resolverFromConfig(ctx.config), hostname: ctx.config.hostname.toLowerCase() });
}

/** Public view of the keys (no private key). */
export interface KeyInfo {
  selector: string;
  algorithm: string;
  state: string;
  createdAt: number;
}
const publicView = (k: DkimKey): KeyInfo => ({ selector: k.selector, algorithm: k.algorithm, state: k.state, createdAt: k.createdAt });

export async function keysOf(ctx: MailauthContext, domain: string): Promise<KeyInfo[]> {
  return (await localKeys(ctx, domain)).map(publicView);
}

/** "stage" (new keys to publish), "activate" (they sign, the old ones retire), "prune" (drop retired). */
export async function rotate(ctx: MailauthContext, domain: string, step: "stage" | "activate" | "prune"): Promise<KeyInfo[]> {
  domain = normalizeDomain(domain);
  await localKeys(ctx, domain);
  if (step === "stage") await stageRotation(ctx.db, domain);
  else if (step === "activate") await activateRotation(ctx.db, domain);
  else await pruneRetired(ctx.db, domain);
  return (await listKeys(ctx.db, domain)).map(publicView);
}
