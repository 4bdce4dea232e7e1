// What a block-list answer means: Spamhaus return codes (ZEN and DBL), DNSWL trust levels,
// and the 127.255.255.x answers that report a refused query, not a listing.
import * as net from "node:net";
import { reverseLabels } from "../../core/dns/index.ts";

export type Meaning =
  | { kind: "listed"; reason: string }
  /** The list refused to answer (public resolver, too many queries, bad query): not a listing. */
  | { kind: "error"; reason: string };

const SPAMHAUS_IP: Record<number, string> = {
  2: "SBL: spam source",
  3: "SBL CSS: snowshoe spam source",
  4: "XBL: exploited or infected host",
  5: "XBL: exploited or infected host",
  6: "XBL: exploited or infected host",
  7: "XBL: exploited or infected host",
  9: "DROP: hijacked network",
  10: "PBL: end-user address that should not send mail directly",
  11: "PBL: end-user address that should not send mail directly",
};
const SPAMHAUS_DOMAIN: Record<number, string> = {
  2: "spam domain",
  4: "phishing domain",
  5: "malware domain",
  6: "botnet command and control domain",
  102: "abused legitimate spam domain",
  103: "abused spammed redirector domain",
  104: "abused legitimate phishing domain",
  105: "abused legitimate malware domain",
  106: "abused legitimate botnet command and control domain",
};
const REFUSED: Record<number, string> = {
  252: "typing error in the DNSBL name",
  254: "query refused: a public or open resolver was used (set dns.servers to your own resolver)",
  255: "query refused: too many queries",
};

/** The meaning of one A answer of a block list (RFC 5782 §2.1: 127.0.0.0/8 answers). */
export function meaning(answer: string): Meaning {
  const o = answer.split(".").map(Number);
  if (o.length !== 4 || o[0] !== 127) return { kind: "error", reason: `answer ${answer} outside 127.0.0.0/8` };
  if (o[1] === 255 && o[2] === 255) return { kind: "error", reason: REFUSED[o[3]!] ?? `list error ${answer}` };
  if (o[1] === 0 && o[2] === 0) return { kind: "listed", reason: SPAMHAUS_IP[o[3]!] ?? `listed (${answer})` };
  if (o[1] === 0 && o[2] === 1) return { kind: "listed", reason: SPAMHAUS_DOMAIN[o[3]!] ?? `listed (${answer})` };
  return { kind: "listed", reason: `listed (${answer})` };
}

/** DNSWL (https://www.dnswl.org): 127.0.<category>.<trust 0–3>; 127.0.0.255 = query refused. */
export function allowMeaning(answer: string): { allowed: boolean; reason: string } {
  const o = answer.split(".").map(Number);
  if (o.length !== 4 || o[0] !== 127) return { allowed: false, reason: `answer ${answer} outside 127.0.0.0/8` };
  if (o[3] === 255 || (o[1] === 255 && o[2] === 255)) return { allowed: false, reason: "query refused by the allow list" };
  return { allowed: true, reason: `trust level ${o[3]}` };
}

/** The name to look up for an IP (RFC 5782 §2.1 IPv4 reversed octets, §2.4 IPv6 nibbles);
 *  null for something that is not an IP. IPv4-mapped IPv6 is looked up as IPv4. */
export function reverseName(ip: string): string | null {
  const addr = (/^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(ip)?.[1] ?? ip).toLowerCase();
  // An IPv6 address with an embedded IPv4 tail is not one a client connects from here.
  if (!net.isIP(addr) || (addr.includes(":") && addr.includes("."))) return null;
  return reverseLabels(addr);
}

/** Loopback, private (RFC 1918), link-local, unique-local: never in public lists. */
export function isPrivate(ip: string): boolean {
  const a = ip.replace(/^::ffff:/i, "");
  return /^(127\.|10\.|192\.168\.|169\.254\.|172\.(1[6-9]|2\d|3[01])\.)/.test(a) || a === "::1" || /^f[cd]/i.test(a) || /^fe80:/i.test(a);
}
