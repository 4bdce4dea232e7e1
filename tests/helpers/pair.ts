// Two kotakpos instances (a.test and b.test) and a test DNS server pointing their MX
// records at 127.0.0.1; each delivers to the other's SMTP port (`delivery.port`).
import { startTestServer, type TestServer, type TestServerOptions } from "./server.ts";
import { startTestDns, type TestDns, type TestDnsOptions } from "./dns-server.ts";
import { freePort } from "./aiosmtpd.ts";
export { until } from "./until.ts";

export const ALICE = { address: "alice@a.test", password: "alice-password-1" };
export const BOB = { address: "bob@b.test", password: "bob-password-1" };

export interface Side {
  domain: string;
  smtpPort: number;
  dataDir?: string;
  server: TestServer;
}

export function serverConfig(domain: string, smtpPort: number, peerPort: number, dns: TestDns, extra: Record<string, unknown> = {}) {
  return {
    hostname: `mx.${domain}`,
    listen: { ports: { smtp: smtpPort } },
    dns: { servers: [dns.server], timeout: "1s" },
    delivery: { port: peerPort, retry: ["1s"], maxAge: "1h", warnAfter: "" },
    ...extra,
  };
}

export function startDnsFor(...domains: string[]): Promise<TestDns> {
  return startDnsWith({}, ...domains);
}

/** startDnsFor with server options (e.g. a TTL so that resolvers cache, for benchmarks). */
export async function startDnsWith(opts: TestDnsOptions, ...domains: string[]): Promise<TestDns> {
  const dns = await startTestDns({}, opts);
  for (const d of domains) {
    dns.set(d, { MX: [{ exchange: `mx.${d}`, priority: 10 }] });
    dns.set(`mx.${d}`, { A: ["127.0.0.1"] });
  }
  return dns;
}

export async function startSide(
  domain: string,
  user: { address: string; password: string },
  smtpPort: number,
  peerPort: number,
  dns: TestDns,
  opts: Partial<TestServerOptions> = {},
): Promise<TestServer> {
  return startTestServer({
    domains: [domain],
    users: [user],
    keepData: true,
    ...opts,
    config: serverConfig(domain, smtpPort, peerPort, dns, (opts.config ?? {}) as Record<string, unknown>),
  });
}

export async function twoPorts(): Promise<[number, number]> {
  const a = await freePort();
  let b = await freePort();
  while (b === a) b = await freePort();
  return [a, b];
}

/** Messages of a user's INBOX as text (prefix + blob). */
export async function inbox(server: TestServer, address: string): Promise<string[]> {
  const store = server.core.store;
  const acct = await store.getAccount(address);
  if (!acct) throw new Error(`no account ${address}`);
  const box = await store.getMailbox(acct.id, "INBOX");
  if (!box) return [];
  const msgs = await store.messages(box.id);
  return Promise.all(msgs.map(async (m) => Buffer.from(await store.read(m)).toString("utf8")));
}
