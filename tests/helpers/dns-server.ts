// A small authoritative DNS server for tests (dns2, UDP and TCP on one 127.0.0.1 port).
// The zone is a mutable map so a test can change records while servers run.
import DNS from "dns2";

export interface ZoneRecords {
  MX?: { exchange: string; priority: number }[];
  A?: string[];
  AAAA?: string[];
  /** Each record as its character-strings (a long string is split into 255-byte pieces). */
  TXT?: (string | string[])[];
  /** RFC 2782; target "." = service not offered. */
  SRV?: { priority: number; weight: number; port: number; target: string }[];
  /** Reverse DNS: names for a *.in-addr.arpa / *.ip6.arpa owner. */
  PTR?: string[];
  /** Answer SERVFAIL for this name (a temporary DNS failure). */
  SERVFAIL?: boolean;
}

export interface TestDns {
  port: number;
  /** Queries answered so far. */
  readonly queries: number;
  /** "127.0.0.1:port", for config dns.servers. */
  server: string;
  zone: Map<string, ZoneRecords>;
  set(name: string, records: ZoneRecords): void;
  close(): Promise<void>;
}

const { Packet } = DNS;

function split255(s: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < s.length; i += 255) out.push(s.slice(i, i + 255));
  return out.length ? out : [""];
}

export interface TestDnsOptions {
  /** TTL of answers; 0 (the default) lets resolvers cache nothing, so tests may change
   *  records at any time. */
  ttl?: number;
  /** Send an SOA with negative answers (RFC 2308), making them cacheable for this long. */
  negativeTtl?: number;
}

export async function startTestDns(initial: Record<string, ZoneRecords> = {}, opts: TestDnsOptions = {}): Promise<TestDns> {
  const zone = new Map<string, ZoneRecords>(Object.entries(initial).map(([k, v]) => [k.toLowerCase(), v]));
  let queries = 0;
  const handle = (request: InstanceType<typeof Packet>, send: (p: InstanceType<typeof Packet>) => void) => {
    queries++;
    const response = Packet.createResponseFromRequest(request);
    const q = request.questions[0];
    if (!q) return send(response);
    const name = q.name.toLowerCase().replace(/\.$/, "");
    const rec = zone.get(name);
    const negative = () => {
      if (opts.negativeTtl)
        response.authorities.push({
          name: "test",
          type: Packet.TYPE.SOA,
          class: Packet.CLASS.IN,
          ttl: opts.negativeTtl,
          primary: "ns.test",
          admin: "admin.test",
          serial: 1,
          refresh: 60,
          retry: 60,
          expiration: 60,
          minimum: opts.negativeTtl,
        } as never);
      send(response);
    };
    if (!rec) {
      response.header.rcode = Packet.RCODE.NXDOMAIN;
      return negative();
    }
    if (rec.SERVFAIL) {
      response.header.rcode = Packet.RCODE.SERVFAIL;
      return send(response);
    }
    const base = { name: q.name, class: Packet.CLASS.IN, ttl: opts.ttl ?? 0 };
    if (q.type === Packet.TYPE.MX) for (const m of rec.MX ?? []) response.answers.push({ ...base, type: Packet.TYPE.MX, exchange: m.exchange, priority: m.priority } as never);
    if (q.type === Packet.TYPE.A) for (const a of rec.A ?? []) response.answers.push({ ...base, type: Packet.TYPE.A, address: a } as never);
    if (q.type === Packet.TYPE.AAAA) for (const a of rec.AAAA ?? []) response.answers.push({ ...base, type: Packet.TYPE.AAAA, address: a } as never);
    if (q.type === Packet.TYPE.SRV) for (const r of rec.SRV ?? []) response.answers.push({ ...base, type: Packet.TYPE.SRV, ...r, target: r.target === "." ? "" : r.target } as never);
    if (q.type === Packet.TYPE.PTR) for (const d of rec.PTR ?? []) response.answers.push({ ...base, type: Packet.TYPE.PTR, domain: d } as never);
    if (q.type === Packet.TYPE.TXT) for (const t of rec.TXT ?? []) response.answers.push({ ...base, type: Packet.TYPE.TXT, data: Array.isArray(t) ? t : split255(t) } as never);
    if (response.answers.length === 0) return negative();
    send(response);
  };
  // One port for UDP and TCP: truncated UDP answers are retried over TCP on it.
  for (let tries = 0; ; tries++) {
    const udp = DNS.createUDPServer(handle as never);
    await udp.listen(0, "127.0.0.1");
    const port = (udp.address() as { port: number }).port;
    const tcp = DNS.createTCPServer(handle as never);
    const ok = await new Promise<boolean>((resolve) => {
      tcp.once("error", () => resolve(false));
      tcp.listen(port, "127.0.0.1", () => resolve(true));
    });
    if (!ok) {
      udp.close();
      if (tries > 20) throw new Error("no free port for the test DNS server");
      continue;
    }
    return {
      port,
      get queries() {
        return queries;
      },
      server: `127.0.0.1:${port}`,
      zone,
      set(name, records) {
        zone.set(name.toLowerCase(), records);
      },
      async close() {
        udp.close();
        await new Promise<void>((resolve) => tcp.close(() => resolve()));
      },
    };
  }
}
