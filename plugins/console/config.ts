// The `[console]` config section (descriptions end up in the commented default config file).
import * as v from "valibot";

const ip = v.pipe(v.string(), v.regex(/^[0-9a-f.:]+$/i, "an IP address like 192.0.2.10 or 2001:db8::1"));
const zone = v.pipe(v.string(), v.regex(/^[a-z0-9.-]+$/i, "a DNS zone like zen.spamhaus.org"));

export const ConsoleConfig = v.object({
  publicAddresses: v.optional(v.pipe(v.array(ip), v.description("Public IP addresses of this server for the checks; empty = the one set in the setup wizard, else detected.")), []),
  probeDomain: v.optional(v.pipe(v.string(), v.description("A domain whose mail server the outbound port-25 check connects to.")), "gmail.com"),
  dnsblsV4: v.optional(v.pipe(v.array(zone), v.description("DNS blocklists the IPv4 addresses are looked up in.")), ["zen.spamhaus.org", "bl.spamcop.net", "b.barracudacentral.org"]),
  dnsblsV6: v.optional(v.pipe(v.array(zone), v.description("DNS blocklists the IPv6 addresses are looked up in.")), ["zen.spamhaus.org"]),
  domainBls: v.optional(v.pipe(v.array(zone), v.description("Domain blocklists the host name's domain is looked up in.")), ["dbl.spamhaus.org"]),
  healthInterval: v.optional(
    v.pipe(v.string(), v.regex(/^\d+(ms|s|m|h|d)$/, "a duration like 6h"), v.description("How often the health checks run (they also run at start); a change mails the admins.")),
    "6h",
  ),
  checkTimeout: v.optional(v.pipe(v.string(), v.regex(/^\d+(ms|s|m|h|d)$/, "a duration like 5s"), v.description("Timeout of one network probe of the checks.")), "5s"),
});

export type ConsoleConfig = v.InferOutput<typeof ConsoleConfig>;

export function consoleConfigOf(config: Record<string, unknown>): ConsoleConfig {
  return v.parse(ConsoleConfig, config.console ?? {});
}
