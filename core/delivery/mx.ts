// Where mail for a domain goes: RFC 5321 §5.1 (MX in preference order, equal
// preferences shuffled, implicit MX = the domain itself when it has no MX) and RFC 7505
// (null MX: the domain accepts no mail — fail at once).
import type { NextHop } from "../types.ts";
import { DnsError, type Resolver } from "../dns/index.ts";
import { DeliveryError } from "./smtp-client.ts";

/** A permanent routing failure with its RFC 3463 status. */
export class RouteError extends DeliveryError {
  constructor(
    message: string,
    permanent: boolean,
    readonly status: string,
  ) {
    super(message, permanent);
  }
}

function shuffle<T>(a: T[]): T[] {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

/** Hops sorted by preference; equal preferences in random order (§5.1: spread the load). */
export function orderHops(hops: NextHop[]): NextHop[] {
  const byPref = new Map<number, NextHop[]>();
  for (const h of hops) byPref.set(h.preference, [...(byPref.get(h.preference) ?? []), h]);
  return [...byPref.keys()].sort((a, b) => a - b).flatMap((p) => shuffle(byPref.get(p)!));
}

export async function mxHops(domain: string, resolver: Resolver): Promise<NextHop[]> {
  let records;
  try {
    records = await resolver.mx(domain);
  } catch (e) {
    if (e instanceof DnsError && e.code === "ENODATA") return [{ host: domain, preference: 0 }]; // §5.1 implicit MX
    if (e instanceof DnsError && e.code === "ENOTFOUND") throw new RouteError(`domain ${domain} does not exist (DNS NXDOMAIN)`, true, "5.1.2");
    throw new RouteError(`MX lookup for ${domain} failed: ${(e as Error).message}`, false, "4.4.3");
  }
  // RFC 7505 §3: a single MX with the root as exchange: no mail for this domain.
  if (records.some((r) => r.exchange === "" || r.exchange === ".")) {
    if (records.length === 1) throw new RouteError(`domain ${domain} accepts no mail (null MX, RFC 7505)`, true, "5.1.10");
    records = records.filter((r) => r.exchange !== "" && r.exchange !== ".");
  }
  return orderHops(records.map((r) => ({ host: r.exchange.toLowerCase(), preference: r.priority })));
}

/** The addresses of one host, IPv6 first then IPv4 (§5.2: try each before the next host).
 *  An IP literal is its own address. Not-found is [] (the next host may work). */
export async function hostAddresses(host: string, resolver: Resolver): Promise<{ addresses: string[]; temporary?: string }> {
  const literal = /^\[?([0-9a-f.:]+)\]?$/i.exec(host);
  if (literal && (literal[1]!.includes(":") || /^\d+\.\d+\.\d+\.\d+$/.test(literal[1]!))) return { addresses: [literal[1]!] };
  const [v6, v4] = await Promise.allSettled([resolver.aaaa(host), resolver.a(host)]);
  const addresses = [...(v6.status === "fulfilled" ? v6.value : []), ...(v4.status === "fulfilled" ? v4.value : [])];
  const temp = [v6, v4].find((r) => r.status === "rejected" && !(r.reason instanceof DnsError && !r.reason.temporary));
  return { addresses, temporary: temp?.status === "rejected" ? String((temp.reason as Error).message) : undefined };
}
