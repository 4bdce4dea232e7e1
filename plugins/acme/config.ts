// The `[acme]` config section (descriptions end up in the commented default config file).
import * as v from "valibot";

const name = v.pipe(v.string(), v.regex(/^(?=.{1,253}$)([a-z0-9-]{1,63}\.)+[a-z0-9-]{2,63}$/i, "a DNS name like mail.example.com"));

export const DIRECTORIES = {
  production: "https://acme-v02.api.letsencrypt.org/directory",
  staging: "https://acme-staging-v02.api.letsencrypt.org/directory",
} as const;

export const AcmeConfig = v.object({
  enabled: v.optional(v.pipe(v.boolean(), v.description("Obtain certificates by ACME. Unset: on when `hostname` is a public DNS name (not localhost, *.local, *.test …)."))),
  directory: v.optional(
    v.pipe(
      v.string(),
      v.regex(/^(production|staging|https:\/\/\S+)$/, '"production", "staging" or an https:// directory URL'),
      v.description('ACME directory: "production" (Let\'s Encrypt), "staging" or an https:// URL.'),
    ),
    "production",
  ),
  email: v.optional(v.pipe(v.string(), v.description('Contact address for the CA account (expiry notices); "" = none.')), ""),
  caFile: v.optional(v.pipe(v.string(), v.description("PEM file of an extra CA to trust for the directory's HTTPS (a private CA, pebble in tests).")), ""),
  challenge: v.optional(
    v.pipe(
      v.picklist(["http-01", "dns-01", "tls-alpn-01"]),
      v.check((c) => c !== "tls-alpn-01", "http-01 or dns-01 (tls-alpn-01 is not available: Bun's TLS chooses the certificate before it sees the ALPN)"),
      v.transform((c) => c as "http-01" | "dns-01"),
      v.description('"http-01" (port 80, the default) or "dns-01" (the acme.dns01 hook, e.g. [acme.rfc2136]); "tls-alpn-01" is refused: Bun\'s TLS cannot pick a certificate by ALPN.'),
    ),
    "http-01",
  ),
  names: v.optional(v.pipe(v.array(name), v.description("Extra names to get certificates for (besides hostname, mta-sts.DOMAIN and autoconfig.DOMAIN).")), []),
  selfCheck: v.optional(v.pipe(v.boolean(), v.description("Before ordering, check that each name reaches this server (its A/AAAA answer our challenge path); skip names that do not.")), true),
  rfc2136: v.optional(
    v.pipe(
      v.object({
        server: v.optional(
          v.pipe(v.string(), v.regex(/^\S*$/, '"host" or "host:port"'), v.description('Primary DNS server taking the updates, "host" or "host:port"; "" = DNS-01 by RFC 2136 is off.')),
          "",
        ),
        zone: v.optional(v.pipe(v.string(), v.description("Zone that holds the _acme-challenge records.")), ""),
        keyName: v.optional(v.pipe(v.string(), v.description("TSIG key name.")), ""),
        algorithm: v.optional(v.pipe(v.picklist(["hmac-sha256", "hmac-sha512", "hmac-sha1"]), v.description("TSIG algorithm of the key.")), "hmac-sha256"),
        secret: v.optional(v.pipe(v.string(), v.regex(/^([A-Za-z0-9+/]+=*)?$/, "a base64 TSIG secret"), v.description("TSIG secret (base64), as in the server's key statement.")), ""),
      }),
      v.description('DNS-01 by RFC 2136 dynamic update with TSIG (BIND, Knot, PowerDNS …): set challenge = "dns-01" and this section.'),
    ),
    {},
  ),
  httpPort: v.optional(
    v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(65535), v.description("Port the CA's HTTP-01 check connects to, used by the self-check (80; change for a port mapping or tests).")),
    80,
  ),
});

export type AcmeConfig = v.InferOutput<typeof AcmeConfig>;

/** Reserved or local names no public CA will issue for (RFC 2606, RFC 6761, RFC 8375). */
const PRIVATE = /(^|\.)(localhost|local|test|example|invalid|internal|lan|home\.arpa)$/i;

export function isPublicName(host: string): boolean {
  return host.includes(".") && !PRIVATE.test(host);
}

/** `enabled` unset means: on for a public host name. */
export function acmeEnabled(cfg: AcmeConfig, hostname: string): boolean {
  return cfg.enabled ?? isPublicName(hostname);
}

export function directoryUrl(cfg: AcmeConfig): string {
  return cfg.directory === "production" || cfg.directory === "staging" ? DIRECTORIES[cfg.directory] : cfg.directory;
}

/** The section from a loaded config (the CLI validates it already; defaults when absent). */
export function acmeConfigOf(config: Record<string, unknown>): AcmeConfig {
  return v.parse(AcmeConfig, config.acme ?? {});
}
