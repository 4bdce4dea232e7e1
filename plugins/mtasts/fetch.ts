// Fetch a policy (RFC 8461 §3.3): https://mta-sts.<domain>/.well-known/mta-sts.txt with a
// certificate valid for that name, no redirects, 200 text/plain, at most 64 KiB. The name
// is resolved with the server's own resolver (dns.servers), not the system's.
import * as https from "node:https";
import * as tls from "node:tls";
import type { Resolver } from "../../core/dns/index.ts";
import { parsePolicy, type Policy } from "./policy.ts";

const MAX_BYTES = 64 * 1024;

export async function fetchPolicy(domain: string, opts: { resolver: Resolver; port: number; ca?: string[]; timeoutMs?: number }): Promise<Policy> {
  const host = `mta-sts.${domain}`;
  const addrs = [...(await opts.resolver.a(host).catch(() => [])), ...(await opts.resolver.aaaa(host).catch(() => []))];
  if (addrs.length === 0) throw new Error(`${host} has no address`);
  const errors: string[] = [];
  for (const addr of addrs) {
    try {
      return parsePolicy(await get(addr, host, opts));
    } catch (e) {
      errors.push(`${addr}: ${(e as Error).message}`);
    }
  }
  throw new Error(`policy of ${domain} not fetched: ${errors.join("; ")}`);
}

function get(addr: string, host: string, opts: { port: number; ca?: string[]; timeoutMs?: number }): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = https.get(
      {
        host: addr,
        port: opts.port,
        path: "/.well-known/mta-sts.txt",
        servername: host,
        headers: { host },
        ...(opts.ca?.length ? { ca: [...tls.rootCertificates, ...opts.ca] } : {}),
        checkServerIdentity: (_h, cert) => tls.checkServerIdentity(host, cert),
        minVersion: "TLSv1.2",
        timeout: opts.timeoutMs ?? 10_000,
        agent: false,
      },
      (res) => {
        if (res.statusCode !== 200) {
          res.resume();
          return reject(new Error(`HTTP ${res.statusCode} (redirects are not followed)`));
        }
        if (!/^text\/plain\b/i.test(res.headers["content-type"] ?? "")) {
          res.resume();
          return reject(new Error(`content type ${res.headers["content-type"] ?? "(none)"} is not text/plain`));
        }
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => {
          body += c;
          if (body.length > MAX_BYTES) req.destroy(new Error("policy larger than 64 KiB"));
        });
        res.on("end", () => resolve(body));
        res.on("error", reject);
      },
    );
    req.on("timeout", () => req.destroy(new Error("timed out")));
    req.on("error", reject);
  });
}
