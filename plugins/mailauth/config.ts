// The `[mailauth]` config section (descriptions end up in the commented default config file).
import * as v from "valibot";

const ip = v.pipe(v.string(), v.regex(/^[0-9a-f.:]+$/i, "an IP address like 192.0.2.10 or 2001:db8::1"));
const domain = v.pipe(v.string(), v.regex(/^[\p{L}\p{N}.-]+$/u, "a domain name like lists.example.org"));

export const MailauthConfig = v.object({
  verify: v.optional(
    v.pipe(
      v.boolean(),
      v.description("Check SPF, DKIM, ARC and DMARC on mail arriving on port 25 and add an Authentication-Results header; a DMARC p=reject failure is refused, p=quarantine goes to Junk."),
    ),
    true,
  ),
  sign: v.optional(v.pipe(v.boolean(), v.description("DKIM-sign outgoing mail of local domains (RSA-2048 and Ed25519 keys, made on first use).")), true),
  dmarcPolicy: v.optional(v.pipe(v.picklist(["none", "quarantine", "reject"]), v.description("Policy in the _dmarc record that `kotakpos dns DOMAIN` suggests.")), "quarantine"),
  dmarcReports: v.optional(v.pipe(v.string(), v.description('Address for DMARC aggregate reports (rua=mailto:…) in the suggested record; "" = none.')), ""),
  ipv4: v.optional(v.pipe(v.array(ip), v.description("Public IPv4 addresses of this server, for the suggested A and PTR records; empty = a placeholder.")), []),
  ipv6: v.optional(v.pipe(v.array(ip), v.description("Public IPv6 addresses of this server, for the suggested AAAA and PTR records.")), []),
  trustedArcSealers: v.optional(v.pipe(v.array(domain), v.description("Forwarders and mailing lists (ARC sealing domains) whose passing ARC chain overrides a DMARC failure.")), []),
  mtaSts: v.optional(
    v.pipe(
      v.picklist(["testing", "enforce", "none"]),
      v.description('MTA-STS mode served at https://mta-sts.DOMAIN/.well-known/mta-sts.txt: "testing" first, "enforce" once reports look clean, "none" to withdraw.'),
    ),
    "testing",
  ),
  tlsReports: v.optional(v.pipe(v.string(), v.description('Address for TLS-RPT reports in the suggested _smtp._tls record; "" = postmaster@DOMAIN.')), ""),
  arcSeal: v.optional(v.pipe(v.boolean(), v.description("ARC-seal mail forwarded to remote addresses (RFC 8617), so receivers can trust our checks.")), true),
});

export type MailauthConfig = v.InferOutput<typeof MailauthConfig>;

/** The section from a loaded config (the CLI validates it already; defaults when absent). */
export function mailauthConfigOf(config: Record<string, unknown>): MailauthConfig {
  return v.parse(MailauthConfig, config.mailauth ?? {});
}
