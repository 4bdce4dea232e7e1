// The `[mailauth]` config section.
import * as v from "valibot";

const ip = v.pipe(v.string(), v.regex(/^[0-9a-f.:]+$/i, "an IP address"));

export const MailauthConfig = v.object({
  /** Check SPF, DKIM, ARC and DMARC on incoming mail (port 25). */
  verify: v.optional(v.boolean(), true),
  /** DKIM-sign outgoing mail of local domains. */
  sign: v.optional(v.boolean(), true),
  /** Policy in the suggested _dmarc record. */
  dmarcPolicy: v.optional(v.picklist(["none", "quarantine", "reject"]), "quarantine"),
  /** Address for DMARC aggregate reports in the suggested record; empty = none. */
  dmarcReports: v.optional(v.string(), ""),
  /** Public IPv4/IPv6 addresses of this server, for the A/AAAA/PTR records; empty = placeholders. */
  ipv4: v.optional(v.array(ip), []),
  ipv6: v.optional(v.array(ip), []),
  /** ARC sealers (domains) whose passing chain overrides a DMARC failure (mailing lists, forwarders). */
  trustedArcSealers: v.optional(v.array(v.string()), []),
  /** ARC-seal mail we forward to remote addresses (RFC 8617). */
  arcSeal: v.optional(v.boolean(), true),
});

export type MailauthConfig = v.InferOutput<typeof MailauthConfig>;

/** The section from a loaded config (the CLI validates it already; defaults when absent). */
export function mailauthConfigOf(config: Record<string, unknown>): MailauthConfig {
  return v.parse(MailauthConfig, config.mailauth ?? {});
}
