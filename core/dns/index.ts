// The DNS resolver of kotakpos: MX, A, AAAA, TXT (and PTR/CNAME for mailauth) over dns2's
// UDP/TCP client, so that `dns.servers` can point at a test server and so that the strings
// of one TXT record are joined (Bun's node:dns splits them; TOOLCHAIN.md).
// Errors say whether the answer is final (not found) or temporary (RFC 5321 §5.1: a
// temporary DNS failure defers delivery; a missing domain fails it).
import { dnsLatency } from "../metrics.ts";
import dns from "node:dns";
import net from "node:net";
import DNS from "dns2";
import { durationMs, type Config } from "../config.ts";

export type RrType = "A" | "AAAA" | "MX" | "TXT" | "PTR" | "CNAME" | "NS" | "SRV";

/** ENOTFOUND = NXDOMAIN; ENODATA = the name exists without records of this type;
 *  anything else (ETIMEOUT, ESERVFAIL, EREFUSED …) is temporary. */
export class DnsError extends Error {
  constructor(
    readonly code: "ENOTFOUND" | "ENODATA" | "ETIMEOUT" | "ESERVFAIL" | "EREFUSED" | "EBADRESP",
    readonly hostname: string,
    readonly rrtype: RrType,
    detail?: string,
  ) {
    super(`${rrtype} ${hostname}: ${code}${detail ? ` (${detail})` : ""}`);
  }
  /** True when retrying later could give another answer. */
  get temporary(): boolean {
    return this.code !== "ENOTFOUND" && this.code !== "ENODATA";
  }
}

export interface MxRecord {
  exchange: string;
  priority: number;
}

export interface Resolver {
  mx(name: string): Promise<MxRecord[]>;
  a(name: string): Promise<string[]>;
  aaaa(name: string): Promise<string[]>;
  /** One string per record, its character-strings joined (RFC 7208 §3.3, RFC 6376 §3.6.2.2). */
  txt(name: string): Promise<string[]>;
  /** node:dns-shaped answers for mailauth's `resolver` option: TXT as string[][]
   *  (one joined string per record), MX as {exchange, priority}[], A/AAAA/PTR as string[]. */
  resolve(name: string, rrtype: string): Promise<unknown[]>;
  /** Until when (ms since the epoch) the answer for name and type stays in the cache, its
   *  TTL counted from when it was fetched; 0 when none is cached. Lets a copy of an answer
   *  kept elsewhere (the mailauth check workers) expire with it. */
  cachedUntil?(name: string, rrtype: string): number;
}

export interface ResolverOptions {
  /** "host:port", "host", "[v6]:port"; empty = the system's resolvers. */
  servers: string[];
  timeoutMs: number;
  /** Answers kept (by their TTL) at most; 0 disables the cache. */
  cacheEntries?: number;
}

/** Longest time an answer is kept, whatever its TTL says (seconds). */
const MAX_TTL = 3600;
const MAX_NEGATIVE_TTL = 900;

interface Server {
  host: string;
  port: number;
}

export function parseServer(s: string): Server {
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(s);
  if (v6) return { host: v6[1]!, port: v6[2] ? Number(v6[2]) : 53 };
  if (net.isIPv6(s)) return { host: s, port: 53 };
  const i = s.lastIndexOf(":");
  if (i > 0) return { host: s.slice(0, i), port: Number(s.slice(i + 1)) };
  return { host: s, port: 53 };
}

interface Answer {
  type: number;
  name: string;
  ttl?: number;
  minimum?: number;
  address?: string;
  exchange?: string;
  priority?: number;
  data?: string[] | string;
  domain?: string;
  ns?: string;
  weight?: number;
  port?: number;
  target?: string;
}

interface Response {
  header: { rcode: number; tc: number };
  answers: Answer[];
  authorities?: Answer[];
}

const RCODE_ERR: Record<number, DnsError["code"]> = { 1: "EBADRESP", 2: "ESERVFAIL", 3: "ENOTFOUND", 5: "EREFUSED" };

export function createResolver(opts: ResolverOptions): Resolver {
  const servers = (opts.servers.length > 0 ? opts.servers : dns.getServers()).map(parseServer);
  if (servers.length === 0) servers.push({ host: "127.0.0.1", port: 53 });
  const timeout = opts.timeoutMs;

  const maxEntries = opts.cacheEntries ?? 5000;
  /** Answers by "TYPE name", until their TTL runs out; lookups in flight are shared. */
  const cache = new Map<string, { until: number; answers?: Answer[]; error?: DnsError }>();
  const inflight = new Map<string, Promise<Answer[]>>();

  function remember(key: string, ttlSeconds: number, entry: { answers?: Answer[]; error?: DnsError }): void {
    if (maxEntries <= 0 || !(ttlSeconds > 0)) return;
    if (cache.size >= maxEntries) cache.delete(cache.keys().next().value!);
    cache.set(key, { until: Date.now() + ttlSeconds * 1000, ...entry });
  }

  async function lookup(qname: string, type: RrType, key: string): Promise<Answer[]> {
    let last: DnsError | undefined;
    // Each server once, in order: the first one that answers decides (RFC 1035 §7.2).
    for (const s of servers) {
      let res: Response;
      try {
        const client = DNS.UDPClient({ dns: s.host, port: s.port, timeout, socketType: net.isIPv6(s.host) ? "udp6" : "udp4" } as never);
        const end = dnsLatency.startTimer({ type });
        res = (await client(qname, type)) as unknown as Response;
        end();
      } catch (e) {
        last = new DnsError("ETIMEOUT", qname, type, `${s.host}:${s.port}: ${(e as Error).message}`);
        continue;
      }
      const rc = res.header.rcode;
      const want = DNS.Packet.TYPE[type];
      const answers = rc === 0 ? res.answers.filter((a) => a.type === want) : [];
      if (rc === 3 || (rc === 0 && answers.length === 0)) {
        const error = new DnsError(rc === 3 ? "ENOTFOUND" : "ENODATA", qname, type);
        // RFC 2308 §5: negative answers are cached only with an SOA to say how long.
        const soa = res.authorities?.find((a) => a.type === DNS.Packet.TYPE.SOA);
        if (soa) remember(key, Math.min(soa.ttl ?? 0, soa.minimum ?? 0, MAX_NEGATIVE_TTL), { error });
        throw error;
      }
      if (rc !== 0) {
        last = new DnsError(RCODE_ERR[rc] ?? "ESERVFAIL", qname, type, `rcode ${rc} from ${s.host}:${s.port}`);
        continue;
      }
      remember(key, Math.min(...answers.map((a) => a.ttl ?? 0), MAX_TTL), { answers });
      return answers;
    }
    throw last ?? new DnsError("ETIMEOUT", qname, type);
  }

  const cacheKey = (name: string, type: string): string => `${type.toUpperCase()} ${name.replace(/\.$/, "").toLowerCase()}`;

  async function query(name: string, type: RrType): Promise<Answer[]> {
    const qname = name.replace(/\.$/, "");
    const key = cacheKey(qname, type);
    const hit = cache.get(key);
    if (hit && hit.until > Date.now()) {
      if (hit.error) throw hit.error;
      return hit.answers!;
    }
    if (hit) cache.delete(key);
    let p = inflight.get(key);
    if (!p) {
      p = lookup(qname, type, key).finally(() => inflight.delete(key));
      inflight.set(key, p);
    }
    return p;
  }

  const txtOf = (a: Answer): string => (Array.isArray(a.data) ? a.data.join("") : (a.data ?? ""));

  const r: Resolver = {
    cachedUntil(name, rrtype) {
      const hit = cache.get(cacheKey(name, rrtype));
      return hit && hit.until > Date.now() ? hit.until : 0;
    },
    async mx(name) {
      return (await query(name, "MX")).map((a) => ({ exchange: (a.exchange ?? "").replace(/\.$/, ""), priority: a.priority ?? 0 }));
    },
    async a(name) {
      return (await query(name, "A")).map((a) => a.address!).filter(Boolean);
    },
    async aaaa(name) {
      return (await query(name, "AAAA")).map((a) => a.address!).filter(Boolean);
    },
    async txt(name) {
      return (await query(name, "TXT")).map(txtOf);
    },
    async resolve(name, rrtype) {
      const t = rrtype.toUpperCase() as RrType;
      switch (t) {
        case "TXT":
          return (await r.txt(name)).map((s) => [s]);
        case "MX":
          return r.mx(name);
        case "A":
        case "AAAA":
          return t === "A" ? r.a(name) : r.aaaa(name);
        case "PTR":
        case "CNAME":
          return (await query(name, t)).map((a) => (a.domain ?? "").replace(/\.$/, ""));
        case "NS":
          return (await query(name, t)).map((a) => (a.ns ?? "").replace(/\.$/, ""));
        case "SRV":
          // node:dns shape (RFC 2782): { priority, weight, port, name }; "." = not offered.
          return (await query(name, t)).map((a) => ({ priority: a.priority ?? 0, weight: a.weight ?? 0, port: a.port ?? 0, name: (a.target ?? "").replace(/\.$/, "") || "." }));
        default:
          throw new DnsError("EBADRESP", name, t, `unsupported type ${rrtype}`);
      }
    },
  };
  return r;
}

/** The address's labels in reverse order, as PTR and DNSBL names use them: "2.0.0.192" for
 *  192.0.0.2; an IPv6 address as 32 nibbles (RFC 3596 §2.5). */
export function reverseLabels(ip: string): string {
  if (net.isIPv4(ip)) return ip.split(".").reverse().join(".");
  const [head, tail = ""] = ip.split("::");
  const h = head ? head.split(":") : [];
  const t = tail ? tail.split(":") : [];
  const groups = ip.includes("::") ? [...h, ...Array(8 - h.length - t.length).fill("0"), ...t] : h;
  return groups
    .map((g) => g.padStart(4, "0"))
    .join("")
    .split("")
    .reverse()
    .join(".");
}

/** The PTR name of an address (RFC 1035 §3.5, RFC 3596 §2.5). */
export function reverseName(ip: string): string {
  return reverseLabels(ip) + (net.isIPv4(ip) ? ".in-addr.arpa" : ".ip6.arpa");
}

/** The resolver the config asks for (`dns.servers`, `dns.timeout`). */
export function resolverFromConfig(config: Config): Resolver {
  return createResolver({ servers: config.dns.servers, timeoutMs: durationMs(config.dns.timeout) });
}
