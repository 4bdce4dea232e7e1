// The environment checks, one module for the setup wizard, the health page, `kotakpos
// check` and the admin API: host name and addresses (NAT noticed), reverse DNS, outbound
// port 25, DNSBL listings (IPv4 and IPv6 apart) and every DNS record a domain needs.
// Every probe goes through the core resolver (tests point it at their DNS server) and
// has a timeout; a probe that cannot answer says "could not check", never "pass".
import net from "node:net";
import os from "node:os";
import { DnsError, reverseLabels, reverseName, type Resolver } from "../../core/dns/index.ts";
import type { DnsRecordStatus } from "../../core/types.ts";
import type { QueueEntry } from "../../core/spool/types.ts";
import type { CertInfo } from "./certificate.ts";

export type Status = "pass" | "warn" | "fail" | "unknown";

export interface CheckItem {
  label: string;
  status: Status;
  expected?: string;
  actual?: string;
  note?: string;
}

export interface CheckResult {
  /** Stable id ("hostname", "ptr", "port25", "dnsbl-ipv4", "dns:example.com" …). */
  id: string;
  title: string;
  status: Status;
  /** One line: what was found. */
  summary: string;
  /** What to do, in plain words (when not pass). */
  fix?: string;
  items?: CheckItem[];
}

export interface ChecksEnv {
  hostname: string;
  resolver: Resolver;
  /** The server's public addresses as configured or corrected in the wizard (empty: detect). */
  publicAddresses: string[];
  /** Domain whose MX answers the outbound port-25 probe, and the port (25 but in tests). */
  probeDomain: string;
  probePort: number;
  /** The smarthost all outbound mail goes through (delivery.relay for every sender): then
   *  a blocked port 25 does not matter. */
  relay?: string;
  dnsblsV4: string[];
  dnsblsV6: string[];
  /** Domain blocklists (the host name's domain is looked up). */
  domainBls: string[];
  timeoutMs: number;
  /** The records of a domain, checked (the dns.records hook). */
  records?: (domain: string) => Promise<DnsRecordStatus[]>;
  /** The certificate for the host name and the outbound queue (a running server only). */
  certificate?: () => Promise<CertInfo | null>;
  queue?: () => Promise<QueueEntry[]>;
}

const worst = (xs: Status[]): Status => (xs.includes("fail") ? "fail" : xs.includes("warn") ? "warn" : xs.includes("unknown") ? "unknown" : "pass");

function isPrivate(ip: string): boolean {
  if (net.isIPv4(ip)) {
    const [a, b] = ip.split(".").map(Number) as [number, number];
    return a === 10 || a === 127 || (a === 172 && b >= 16 && b < 32) || (a === 192 && b === 168) || (a === 169 && b === 254) || (a === 100 && b >= 64 && b < 128);
  }
  const l = ip.toLowerCase();
  return l === "::1" || l.startsWith("fe80:") || l.startsWith("fc") || l.startsWith("fd");
}

/** The machine's own public addresses (none behind NAT). */
export function interfaceAddresses(): string[] {
  const out: string[] = [];
  for (const list of Object.values(os.networkInterfaces())) for (const i of list ?? []) if (!i.internal && !isPrivate(i.address)) out.push(i.address);
  return out;
}

async function lookup(fn: () => Promise<string[]>): Promise<{ ok: string[] } | { none: true } | { error: string }> {
  try {
    return { ok: await fn() };
  } catch (e) {
    if (e instanceof DnsError && !e.temporary) return { none: true };
    return { error: (e as Error).message };
  }
}

export interface AddressInfo {
  addresses: string[];
  /** "configured" (config or wizard), "interfaces", or "dns" (the host name's A/AAAA). */
  source: "configured" | "interfaces" | "dns" | "none";
  /** No public address on this machine: traffic comes through a router (NAT). */
  nat: boolean;
  hostA: string[];
  hostAAAA: string[];
  dnsError?: string;
}

export async function addressInfo(env: ChecksEnv): Promise<AddressInfo> {
  const a = await lookup(() => env.resolver.a(env.hostname));
  const aaaa = await lookup(() => env.resolver.aaaa(env.hostname));
  const hostA = "ok" in a ? a.ok : [];
  const hostAAAA = "ok" in aaaa ? aaaa.ok : [];
  const dnsError = "error" in a ? a.error : "error" in aaaa ? aaaa.error : undefined;
  const local = interfaceAddresses();
  const nat = local.length === 0;
  if (env.publicAddresses.length) return { addresses: env.publicAddresses, source: "configured", nat, hostA, hostAAAA, dnsError };
  if (local.length) return { addresses: local, source: "interfaces", nat, hostA, hostAAAA, dnsError };
  const fromDns = [...hostA, ...hostAAAA];
  return { addresses: fromDns, source: fromDns.length ? "dns" : "none", nat, hostA, hostAAAA, dnsError };
}

export async function checkHostname(env: ChecksEnv, info: AddressInfo): Promise<CheckResult> {
  const base = { id: "hostname", title: "Mail host name" };
  const h = env.hostname;
  if (!/^(?=.{4,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i.test(h))
    return { ...base, status: "fail", summary: `"${h}" is not a fully-qualified DNS name`, fix: "Set hostname in kotakpos.toml to a name like mail.example.com and restart." };
  if (info.dnsError) return { ...base, status: "unknown", summary: `could not look up ${h}: ${info.dnsError}`, fix: "Check the DNS servers (dns.servers) and try again." };
  const published = [...info.hostA, ...info.hostAAAA];
  if (published.length === 0)
    return { ...base, status: "fail", summary: `${h} has no A or AAAA record`, fix: `At your DNS host, add an A record for ${h} pointing at ${info.addresses[0] ?? "this server's public address"}.` };
  const items: CheckItem[] = info.addresses.map((ip) => ({
    label: ip,
    status: published.includes(ip) ? "pass" : "fail",
    expected: ip,
    actual: (net.isIPv4(ip) ? info.hostA : info.hostAAAA).join(", ") || "(none)",
  }));
  const natNote = info.nat ? " This machine has no public address of its own (NAT): forward ports 25, 465, 587, 993, 995, 80 and 443 on the router to it." : "";
  if (info.addresses.length === 0)
    return {
      ...base,
      status: "warn",
      summary: `${h} points at ${published.join(", ")}; this server's public address is unknown`,
      fix: `Enter the public address below if it is not ${published[0]}.${natNote}`,
      items,
    };
  const missing = items.filter((i) => i.status === "fail");
  if (missing.length)
    return {
      ...base,
      status: "fail",
      summary: `${h} points at ${published.join(", ")}, not at ${missing.map((m) => m.label).join(", ")}`,
      fix: `At your DNS host, set the ${h} record to ${missing[0]!.label} (or correct the address below if the detection is wrong).${natNote}`,
      items,
    };
  return { ...base, status: info.nat ? "warn" : "pass", summary: `${h} points at ${published.join(", ")}${info.nat ? " (behind NAT)" : ""}`, ...(info.nat ? { fix: natNote.trim() } : {}), items };
}

export async function checkPtr(env: ChecksEnv, info: AddressInfo): Promise<CheckResult> {
  const base = { id: "ptr", title: "Reverse DNS (PTR)" };
  if (info.addresses.length === 0) return { ...base, status: "unknown", summary: "no public address known to look up" };
  const items: CheckItem[] = [];
  for (const ip of info.addresses) {
    const r = await lookup(() => env.resolver.resolve(reverseName(ip), "PTR") as Promise<string[]>);
    if ("error" in r) items.push({ label: ip, status: "unknown", expected: env.hostname, actual: `could not check (${r.error})` });
    else {
      const names = "ok" in r ? r.ok.map((n) => n.toLowerCase().replace(/\.$/, "")) : [];
      items.push({ label: ip, status: names.includes(env.hostname.toLowerCase()) ? "pass" : "fail", expected: env.hostname, actual: names.join(", ") || "(none)" });
    }
  }
  const status = worst(items.map((i) => i.status));
  const bad = items.filter((i) => i.status !== "pass");
  return {
    ...base,
    status,
    summary: status === "pass" ? `every address points back to ${env.hostname}` : bad.map((b) => `${b.label} → ${b.actual}`).join("; "),
    ...(status === "pass"
      ? {}
      : {
          fix: `Set the reverse DNS (PTR) of ${bad.map((b) => b.label).join(", ")} to ${env.hostname}. PTR records are set at your hosting provider (the owner of the address), not at your DNS host.`,
        }),
    items,
  };
}

/** Connect to the probe domain's MX on port 25 and read its greeting (RFC 5321 §4.2). */
function smtpGreeting(host: string, port: number, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host, port });
    let buf = "";
    const done = (err?: Error) => {
      clearTimeout(timer);
      sock.destroy();
      if (err) reject(err);
      else resolve(buf.split("\r\n")[0] ?? "");
    };
    const timer = setTimeout(() => done(new Error(`no answer within ${timeoutMs / 1000} s`)), timeoutMs);
    sock.on("data", (d) => {
      buf += d.toString("latin1");
      if (buf.includes("\n")) done();
    });
    sock.on("error", (e) => done(e));
  });
}

export async function checkPort25(env: ChecksEnv): Promise<CheckResult> {
  const base = { id: "port25", title: "Outbound port 25" };
  let hosts: string[];
  try {
    hosts = (await env.resolver.mx(env.probeDomain)).sort((a, b) => a.priority - b.priority).map((m) => m.exchange);
  } catch (e) {
    return { ...base, status: "unknown", summary: `could not look up the MX of ${env.probeDomain}: ${(e as Error).message}` };
  }
  const host = hosts[0];
  if (!host) return { ...base, status: "unknown", summary: `${env.probeDomain} has no MX to try` };
  let addr: string;
  try {
    addr = net.isIP(host) ? host : ((await env.resolver.a(host))[0] ?? host);
  } catch {
    addr = host;
  }
  try {
    const greeting = await smtpGreeting(addr, env.probePort, env.timeoutMs);
    if (!greeting.startsWith("220"))
      return { ...base, status: "warn", summary: `${host} answered "${greeting.slice(0, 80)}"`, fix: "The connection works, but the greeting is not 220; try again later." };
    return { ...base, status: "pass", summary: `connected to ${host} (${env.probeDomain}'s mail server) on port ${env.probePort}` };
  } catch (e) {
    if (env.relay) return { ...base, status: "pass", summary: `blocked (${(e as Error).message}), but outbound mail goes through the relay ${env.relay}` };
    return {
      ...base,
      status: "fail",
      summary: `cannot connect to ${host} on port ${env.probePort}: ${(e as Error).message}`,
      fix: "Your provider blocks outgoing port 25 (common on home lines and some clouds). Ask them to open it, or send through a smarthost (a relay on port 587) instead.",
    };
  }
}

/** 127.255.255.x from Spamhaus means the query was refused (public resolver, rate limit):
 *  could not check, not a listing. Other 127.0.0.x answers are listings. */
function dnsblMeaning(answers: string[]): Status {
  if (answers.some((a) => a.startsWith("127.255.255."))) return "unknown";
  return answers.some((a) => a.startsWith("127.")) ? "fail" : "pass";
}

async function dnsbl(env: ChecksEnv, name: string, zone: string, label: string): Promise<CheckItem> {
  const r = await lookup(() => env.resolver.a(`${name}.${zone}`));
  if ("error" in r) return { label, status: "unknown", note: `${zone}: could not check (${r.error})` };
  if ("none" in r) return { label, status: "pass", note: `${zone}: not listed` };
  const s = dnsblMeaning(r.ok);
  return {
    label,
    status: s,
    actual: r.ok.join(", "),
    note: s === "unknown" ? `${zone}: could not check (the list refused the query: ${r.ok.join(", ")}, a public or busy resolver)` : `${zone}: listed (${r.ok.join(", ")})`,
  };
}

export async function checkDnsbl(env: ChecksEnv, info: AddressInfo, family: 4 | 6): Promise<CheckResult> {
  const base = { id: `dnsbl-ipv${family}`, title: `Blocklists (IPv${family})` };
  const ips = info.addresses.filter((ip) => net.isIP(ip) === family);
  if (ips.length === 0) return { ...base, status: "pass", summary: `no public IPv${family} address to check` };
  const zones = family === 4 ? env.dnsblsV4 : env.dnsblsV6;
  const items = await Promise.all(ips.flatMap((ip) => zones.map((z) => dnsbl(env, reverseLabels(ip), z, ip))));
  const status = worst(items.map((i) => i.status));
  const listed = items.filter((i) => i.status === "fail");
  const unknown = items.filter((i) => i.status === "unknown");
  const summary = listed.length
    ? `listed: ${listed.map((l) => l.note).join("; ")}`
    : unknown.length
      ? `could not check ${unknown.length} of ${items.length} lists`
      : zones.length === 0
        ? "no blocklists configured to check"
        : `not listed on ${zones.length} ${zones.length === 1 ? "list" : "lists"}`;
  const fix = listed.length
    ? "Follow the delisting link of each list (find why first: an open relay, a hacked account, a previous owner of the address)."
    : unknown.length
      ? "The lists refuse queries from public resolvers: use your own resolver (dns.servers) to check."
      : undefined;
  return { ...base, status, summary, ...(fix ? { fix } : {}), items };
}

export async function checkDomainBl(env: ChecksEnv): Promise<CheckResult> {
  const base = { id: "dnsbl-domain", title: "Blocklists (host name)" };
  const domain = env.hostname.split(".").slice(-2).join(".");
  const items = await Promise.all(env.domainBls.map((z) => dnsbl(env, domain, z, domain)));
  const status = worst(items.map((i) => i.status));
  const summary =
    status === "pass"
      ? `${domain} is not listed`
      : items
          .filter((i) => i.status !== "pass")
          .map((i) => i.note)
          .join("; ");
  return { ...base, status, summary, ...(status === "fail" ? { fix: "Ask the list to delist the domain (and find out why it was listed)." } : {}), items };
}

export async function checkDnsRecords(env: ChecksEnv, domain: string): Promise<CheckResult> {
  const base = { id: `dns:${domain}`, title: `DNS records of ${domain}` };
  const records = env.records ? await env.records(domain) : [];
  const items: CheckItem[] = records.map((r) => ({
    label: `${r.type} ${r.name}`,
    status: r.status === "right" ? "pass" : r.status === "error" ? "unknown" : "fail",
    expected: r.value,
    actual: (r.found ?? []).join(" | ") || "(none)",
    note: [r.purpose, r.note, r.detail].filter(Boolean).join(" — "),
  }));
  const bad = items.filter((i) => i.status !== "pass");
  const status = worst(items.map((i) => i.status));
  return {
    ...base,
    status,
    summary: bad.length === 0 ? `all ${items.length} records are right` : `${bad.length} of ${items.length} records need attention: ${bad.map((b) => b.label).join(", ")}`,
    ...(bad.length ? { fix: "Add or correct these records at your DNS host (values below), wait for the TTL, then re-check." } : {}),
    items,
  };
}

const DAY = 86_400_000;

/** A certificate within 14 days of expiry means renewal is failing (ACME renews at 30). */
export async function checkCertificate(env: ChecksEnv): Promise<CheckResult | null> {
  if (!env.certificate) return null;
  const base = { id: "tls", title: "TLS certificate" };
  const c = await env.certificate();
  if (!c) return { ...base, status: "fail", summary: "no certificate for the host name", fix: "Set tls.certFile and tls.keyFile, or let ACME get one once the host name resolves here." };
  const days = Math.floor((c.notAfter - Date.now()) / DAY);
  if (days < 0) return { ...base, status: "fail", summary: `the certificate expired ${-days} days ago`, fix: "Renew it now: mail apps and other servers refuse expired certificates." };
  if (days <= 14)
    return {
      ...base,
      status: "fail",
      summary: `the certificate expires in ${days} days and was not renewed`,
      fix: "Renewal is failing: check that the host name still resolves here and port 80 is reachable (ACME), or replace tls.certFile.",
    };
  if (c.selfSigned) return { ...base, status: "warn", summary: `self-signed, valid ${days} more days`, fix: "Mail apps warn about it; a certificate from ACME or tls.certFile removes the warning." };
  return { ...base, status: "pass", summary: `issued by ${c.issuer}, valid ${days} more days` };
}

/** The queue is stuck when messages wait long after several tries (the scheduler or the
 *  network is failing). */
export async function checkQueue(env: ChecksEnv): Promise<CheckResult | null> {
  if (!env.queue) return null;
  const base = { id: "queue", title: "Outbound queue" };
  const waiting = (await env.queue()).filter((q) => q.status === "queued" || q.status === "deferred" || q.status === "inflight");
  const stuck = waiting.filter((q) => q.attempts >= 3 && Date.now() - q.createdAt > 3600_000);
  if (stuck.length === 0) return { ...base, status: "pass", summary: waiting.length ? `${waiting.length} waiting, none stuck` : "empty" };
  return {
    ...base,
    status: "fail",
    summary: `${stuck.length} message(s) stuck for over an hour: ${[...new Set(stuck.map((q) => q.recipient.split("@")[1]))].slice(0, 5).join(", ")}`,
    fix: "Look at the errors in the admin queue page: port 25 blocked, a blocklisting, or a receiving server refusing.",
    items: stuck.slice(0, 10).map((q) => ({ label: q.recipient, status: "fail" as const, note: q.lastError ?? "" })),
  };
}

/** Every check: the server's, then each domain's records. */
export async function runChecks(env: ChecksEnv, domains: string[]): Promise<CheckResult[]> {
  const info = await addressInfo(env);
  const out = await Promise.all([
    checkHostname(env, info),
    checkPtr(env, info),
    checkPort25(env),
    checkDnsbl(env, info, 4),
    checkDnsbl(env, info, 6),
    checkDomainBl(env),
    ...domains.map((d) => checkDnsRecords(env, d)),
    checkCertificate(env),
    checkQueue(env),
  ]);
  return out.filter((r): r is CheckResult => r !== null);
}

export const overall = (results: CheckResult[]): Status => worst(results.map((r) => r.status));
