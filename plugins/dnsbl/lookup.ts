// Block-list lookups through kotakpos's resolver (dns.servers), results cached per query
// name: a listing, "not listed", and a refused query (127.255.255.x, logged as a warning).
import type { Resolver } from "../../core/dns/index.ts";
import { DnsError } from "../../core/dns/index.ts";
import type { Logger } from "../../core/types.ts";
import { allowMeaning, meaning } from "./codes.ts";

export interface Listing {
  zone: string;
  /** What was looked up: an IP or a domain. */
  subject: string;
  answer: string;
  reason: string;
}

type Result = { listed: Listing | null; allowed?: string };

export class Lists {
  private readonly cache = new Map<string, { until: number; result: Result }>();
  constructor(
    private readonly resolver: Resolver,
    private readonly log: Logger,
    private readonly cacheMs: number,
  ) {}

  private async query(name: string, subject: string, zone: string, allow: boolean): Promise<Result> {
    const key = `${allow ? "W" : "B"} ${name}`;
    const hit = this.cache.get(key);
    if (hit && hit.until > Date.now()) return hit.result;
    let answers: string[];
    try {
      answers = await this.resolver.a(name);
    } catch (e) {
      if (e instanceof DnsError && !e.temporary) answers = [];
      else {
        // A list that does not answer never blocks mail; not cached, tried again next time.
        this.log.warn("dnsbl lookup failed", { zone, subject, err: (e as Error).message });
        return { listed: null };
      }
    }
    let result: Result = { listed: null };
    for (const a of answers) {
      if (allow) {
        const m = allowMeaning(a);
        if (m.allowed) result = { listed: null, allowed: m.reason };
        else this.log.warn("dnswl refused the query: not an allow-listing", { zone, subject, answer: a, reason: m.reason });
        continue;
      }
      const m = meaning(a);
      if (m.kind === "error") {
        this.log.warn("dnsbl refused the query: not a listing", { zone, subject, answer: a, reason: m.reason });
        continue;
      }
      result = { listed: { zone, subject, answer: a, reason: m.reason } };
      break;
    }
    if (this.cacheMs > 0) {
      if (this.cache.size >= 10_000) this.cache.delete(this.cache.keys().next().value!);
      this.cache.set(key, { until: Date.now() + this.cacheMs, result });
    }
    return result;
  }

  /** The first listing of `reversed` (an IP's RFC 5782 name) in the zones, in order. */
  async firstListing(reversedOrDomain: string, subject: string, zones: string[]): Promise<Listing | null> {
    const results = await Promise.all(zones.map((z) => this.query(`${reversedOrDomain}.${z}`, subject, z, false)));
    return results.find((r) => r.listed)?.listed ?? null;
  }

  /** The allow list that lists the IP, with its trust level, or null. */
  async allowed(reversed: string, subject: string, zones: string[]): Promise<string | null> {
    const results = await Promise.all(zones.map((z) => this.query(`${reversed}.${z}`, subject, z, true)));
    const i = results.findIndex((r) => r.allowed);
    return i < 0 ? null : `${zones[i]} (${results[i]!.allowed})`;
  }
}
