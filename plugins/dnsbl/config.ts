// The `[dnsbl]` config section (descriptions end up in the commented default config file).
import * as v from "valibot";

const zone = v.pipe(v.string(), v.regex(/^[a-z0-9.-]+$/i, "a DNS zone like zen.spamhaus.org"));

export const DnsblConfig = v.object({
  ipZones: v.optional(
    v.pipe(
      v.array(zone),
      v.description('DNS block lists for the connecting IP (IPv4 and IPv6), e.g. ["zen.spamhaus.org"]. Spamhaus refuses queries from public resolvers: set dns.servers to your own resolver.'),
    ),
    [],
  ),
  domainZones: v.optional(v.pipe(v.array(zone), v.description('Domain block lists for the sender\'s domains and the link domains in the message, e.g. ["dbl.spamhaus.org"].')), []),
  allowZones: v.optional(v.pipe(v.array(zone), v.description('DNS allow lists (DNSWL) for the connecting IP: a listed IP skips the block lists, e.g. ["list.dnswl.org"].')), []),
  action: v.optional(v.pipe(v.picklist(["reject", "junk"]), v.description('What a listing does: "reject" refuses with 554 naming the list, "junk" files the message into Junk.')), "reject"),
  checkPrivate: v.optional(v.pipe(v.boolean(), v.description("Also look up loopback and private addresses (tests; they are never listed in public lists).")), false),
  cacheSeconds: v.optional(v.pipe(v.number(), v.minValue(0), v.description("How long a lookup result (listed or not) is kept.")), 600),
  maxDomains: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0), v.description("Domains of one message looked up at most.")), 10),
});

export type DnsblConfig = v.InferOutput<typeof DnsblConfig>;
