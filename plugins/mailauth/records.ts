// The DNS records a local domain needs (MX, SPF, DKIM ×2, DMARC, the host name's
// A/AAAA/SPF/PTR) and a checker that queries DNS record by record: right, missing, wrong.
import net from "node:net";
import { domainToASCII } from "node:url";
import { DnsError, reverseName, type Resolver } from "../../core/dns/index.ts";

export { reverseName };
import type { DkimKey } from "./keys.ts";

export type RecordType = "MX" | "TXT" | "A" | "AAAA" | "PTR" | "CNAME" | "TLSA" | "SRV";

export interface DnsRecord {
  /** Owner name, fully qualified, without the trailing dot. */
  name: string;
  type: RecordType;
  /** The record data as it goes in a zone file (TXT quoted and split in 255-byte strings). */
  value: string;
  /** The data itself (TXT text unquoted, MX/PTR host name), for DNS provider APIs. */
  data: string;
  /** MX preference. */
  priority?: number;
  /** SRV port. */
  port?: number;
  /** What it is for, one line. */
  purpose: string;
  /** The value is a placeholder the admin must fill in (an address we do not know). */
  placeholder?: boolean;
  /** Extra advice (retired key, set at the hosting provider …). */
  note?: string;
}

export interface RecordsInput {
  domain: string;
  hostname: string;
  keys: DkimKey[];
  ipv4: string[];
  ipv6: string[];
  dmarcPolicy: "none" | "quarantine" | "reject";
  /** Address for aggregate reports (rua=mailto:…); empty = none. */
  dmarcRua: string;
  /** The `id` of the MTA-STS policy served for the domain; undefined: none. */
  mtaStsId?: string;
  /** TLS-RPT report address (RFC 8460). */
  tlsRptAddress?: string;
  /** SHA-256 (hex) of the host's public key, for its TLSA 3 1 1 record (DANE, RFC 7672). */
  tlsaSpki?: string;
  /** The smarthost's SPF include (delivery.relay preset) when the domain's mail goes through it. */
  spfInclude?: string;
  /** Ports clients use (standard + offset), for the RFC 6186 SRV records; none = no SRV. */
  ports?: { submissions: number; submission: number; imaps: number; pop3s: number };
}

/** Client discovery: the autoconfig host, and RFC 6186 §3 SRV records (RFC 8314 §5.1
 *  _submissions) so mail apps find the servers.
 *  Plain IMAP and POP3 get the null target "." (RFC 6186 §4): implicit TLS is preferred. */
function srvRecords(d: string, host: string, p: NonNullable<RecordsInput["ports"]>): DnsRecord[] {
  const srv = (service: string, port: number, target: string, what: string): DnsRecord => ({
    name: `_${service}._tcp.${d}`,
    type: "SRV",
    value: target === "." ? "0 0 0 ." : `0 1 ${port} ${target}.`,
    data: target === "." ? "." : target,
    port,
    purpose: `${what} (RFC 6186${service === "submissions" ? ", RFC 8314" : ""})`,
    ...(target === "." ? { note: 'null target "." = not offered; some DNS panels refuse it: then leave it out' } : {}),
  });
  return [
    { name: `autoconfig.${d}`, type: "CNAME", value: `${host}.`, data: host, purpose: "Thunderbird's autoconfig host: this server answers it", note: "not proxied (Cloudflare: DNS only)" },
    srv("submissions", p.submissions, host, "mail apps send over implicit TLS"),
    srv("submission", p.submission, host, "mail apps send with STARTTLS"),
    srv("imaps", p.imaps, host, "mail apps read over IMAP with implicit TLS"),
    srv("pop3s", p.pop3s, host, "mail apps read over POP3 with implicit TLS"),
    srv("imap", 0, ".", "plain IMAP is not advertised"),
    srv("pop3", 0, ".", "plain POP3 is not advertised"),
  ];
}

/** RFC 1035 §3.3.14 / §5.1: each character-string at most 255 bytes, quoted, `"` and `\` escaped. */
export function quoteTxt(text: string): string {
  const parts: string[] = [];
  for (let i = 0; i < text.length || parts.length === 0; i += 255) parts.push(text.slice(i, i + 255));
  return parts.map((p) => `"${p.replace(/["\\]/g, (c) => "\\" + c)}"`).join(" ");
}

function txt(name: string, text: string, purpose: string, note?: string): DnsRecord {
  return { name, type: "TXT", value: quoteTxt(text), data: text, purpose, ...(note ? { note } : {}) };
}

/** The p= value of a DKIM key as its TXT record (RFC 6376 §3.6.1, RFC 8463 §4.2). */
export function dkimRecordText(k: Pick<DkimKey, "algorithm" | "publicKey">): string {
  return `v=DKIM1; k=${k.algorithm === "rsa-sha256" ? "rsa" : "ed25519"}; p=${k.publicKey}`;
}

/** Every record `domain` needs, in the order an admin would add them. */
export function domainRecords(input: RecordsInput): DnsRecord[] {
  // Zone files and DNS APIs take A-labels (RFC 5890); local domains are stored as U-labels.
  const d = domainToASCII(input.domain.toLowerCase()) || input.domain.toLowerCase();
  const host = domainToASCII(input.hostname.toLowerCase()) || input.hostname.toLowerCase();
  const out: DnsRecord[] = [];
  out.push({ name: d, type: "MX", value: `10 ${host}.`, data: host, priority: 10, purpose: "mail for the domain goes to this server (RFC 5321 §5)" });
  if (input.spfInclude) out.push(txt(d, `v=spf1 mx include:${input.spfInclude} -all`, "SPF: the domain's MX hosts and the relay it sends through (RFC 7208)"));
  else out.push(txt(d, "v=spf1 mx -all", "SPF: only the domain's MX hosts send its mail (RFC 7208)"));
  for (const k of input.keys) {
    const note =
      k.state === "staged"
        ? "new key from a rotation: publish it, then activate the rotation"
        : k.state === "retired"
          ? "retired key: keep it a few days for mail in flight, then prune it"
          : undefined;
    out.push(txt(`${k.selector}._domainkey.${d}`, dkimRecordText(k), `DKIM ${k.algorithm} public key, selector ${k.selector} (RFC 6376${k.algorithm === "ed25519-sha256" ? ", RFC 8463" : ""})`, note));
  }
  const rua = input.dmarcRua ? `; rua=mailto:${input.dmarcRua}` : "";
  out.push(txt(`_dmarc.${d}`, `v=DMARC1; p=${input.dmarcPolicy}; adkim=r; aspf=r${rua}`, "DMARC: what receivers do with mail that fails SPF and DKIM alignment (RFC 7489)"));
  // Transport security: MTA-STS (RFC 8461), TLS-RPT (RFC 8460), DANE (RFC 7672).
  if (input.mtaStsId) {
    out.push({ name: `mta-sts.${d}`, type: "CNAME", value: `${host}.`, data: host, purpose: "MTA-STS policy host: this server serves the policy (its certificate comes by ACME)" });
    out.push(txt(`_mta-sts.${d}`, `v=STSv1; id=${input.mtaStsId}`, "MTA-STS: senders fetch the policy and require TLS to the MX (RFC 8461)"));
  }
  if (input.tlsRptAddress) out.push(txt(`_smtp._tls.${d}`, `v=TLSRPTv1; rua=mailto:${input.tlsRptAddress}`, "TLS-RPT: where senders report TLS failures (RFC 8460)"));
  if (input.tlsaSpki)
    out.push({
      name: `_25._tcp.${host}`,
      type: "TLSA",
      value: `3 1 1 ${input.tlsaSpki}`,
      data: `3 1 1 ${input.tlsaSpki}`,
      purpose: "DANE: the key of this server's certificate (RFC 7672; only in a DNSSEC-signed zone)",
      note: "the key is kept across renewals; change it only with a new record first",
    });
  if (input.ports) out.push(...srvRecords(d, host, input.ports));
  // The host name: its addresses, an SPF record for the HELO identity, reverse DNS.
  if (input.ipv4.length === 0) out.push({ name: host, type: "A", value: "<IPv4 address of this server>", data: "", purpose: `address of ${host}`, placeholder: true });
  for (const ip of input.ipv4) out.push({ name: host, type: "A", value: ip, data: ip, purpose: `address of ${host}` });
  if (input.ipv6.length === 0 && input.ipv4.length === 0)
    out.push({ name: host, type: "AAAA", value: "<IPv6 address of this server>", data: "", purpose: `IPv6 address of ${host} (only if the server has one)`, placeholder: true });
  for (const ip of input.ipv6) out.push({ name: host, type: "AAAA", value: ip, data: ip, purpose: `IPv6 address of ${host}` });
  if (host !== d) out.push(txt(host, "v=spf1 a -all", `SPF for the HELO name ${host} (RFC 7208 §2.3)`));
  for (const ip of [...input.ipv4, ...input.ipv6])
    out.push({ name: reverseName(ip), type: "PTR", value: `${host}.`, data: host, purpose: `reverse DNS of ${ip}`, note: "set by whoever owns the address (your hosting provider's panel)" });
  return out;
}

/** A zone-file snippet, ready to paste. */
export function formatZone(records: DnsRecord[]): string {
  const lines: string[] = [];
  for (const r of records) {
    lines.push(`; ${r.purpose}${r.note ? ` — ${r.note}` : ""}${r.placeholder ? " — fill in the address" : ""}`);
    lines.push(`${r.name}.\t3600\tIN\t${r.type}\t${r.value}`);
  }
  return lines.join("\n") + "\n";
}

// ---------- the checker ----------

export type CheckStatus = "right" | "missing" | "wrong" | "error";

export interface CheckResult {
  record: DnsRecord;
  status: CheckStatus;
  /** What DNS has (for wrong / right). */
  found: string[];
  detail?: string;
}

export interface CheckOptions {
  resolver: Resolver;
  hostname: string;
}

const norm = (s: string) =>
  s
    .replace(/\s+/g, " ")
    .replace(/\s*;\s*/g, ";")
    .replace(/;$/, "")
    .trim()
    .toLowerCase();

function tags(s: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const part of s.split(";")) {
    const i = part.indexOf("=");
    if (i > 0) m.set(part.slice(0, i).trim().toLowerCase(), part.slice(i + 1).replace(/\s+/g, ""));
  }
  return m;
}

async function query<T>(fn: () => Promise<T[]>): Promise<{ ok: T[] } | { missing: true } | { error: string }> {
  try {
    return { ok: await fn() };
  } catch (e) {
    if (e instanceof DnsError && !e.temporary) return { missing: true };
    return { error: (e as Error).message };
  }
}

/** Does this SPF record let the server's addresses send for `domain`? (evaluated, not compared) */
async function spfAuthorizes(domain: string, addrs: string[], resolver: Resolver, hostname: string): Promise<boolean> {
  if (addrs.length === 0) return false;
  for (const ip of addrs) {
    const { spf } = await import("mailauth"); // loaded on first check, not at start
    const r = await spf({ sender: `postmaster@${domain}`, ip, helo: hostname, mta: hostname, resolver: resolver.resolve as never });
    if (r.status.result !== "pass") return false;
  }
  return true;
}

async function checkOne(r: DnsRecord, opts: CheckOptions, serverAddrs: () => Promise<string[]>): Promise<CheckResult> {
  const { resolver } = opts;
  const res = (status: CheckStatus, found: string[], detail?: string): CheckResult => ({ record: r, status, found, ...(detail ? { detail } : {}) });
  switch (r.type) {
    case "MX": {
      const q = await query(() => resolver.mx(r.name));
      if ("error" in q) return res("error", [], q.error);
      if ("missing" in q) return res("missing", []);
      const found = q.ok.map((m) => `${m.priority} ${m.exchange}.`);
      return q.ok.some((m) => m.exchange.toLowerCase() === r.data) ? res("right", found) : res("wrong", found, `no MX points to ${r.data}`);
    }
    case "A":
    case "AAAA": {
      const q = await query(() => (r.type === "A" ? resolver.a(r.name) : resolver.aaaa(r.name)));
      if ("error" in q) return res("error", [], q.error);
      if ("missing" in q) return res("missing", []);
      if (r.placeholder) return res("right", q.ok, "the server's address is not configured, so any address is accepted");
      const same = (a: string, b: string) => (net.isIPv6(a) ? expand6(a) === expand6(b) : a === b);
      return q.ok.some((a) => same(a, r.data)) ? res("right", q.ok) : res("wrong", q.ok, `${r.data} is not among them`);
    }
    case "PTR": {
      const q = await query(() => resolver.resolve(r.name, "PTR") as Promise<string[]>);
      if ("error" in q) return res("error", [], q.error);
      if ("missing" in q) return res("missing", []);
      return q.ok.some((h) => h.toLowerCase().replace(/\.$/, "") === r.data) ? res("right", q.ok) : res("wrong", q.ok);
    }
    case "CNAME": {
      // A CNAME to the host name, or addresses of the host name's own, both work.
      const q = await query(() => resolver.resolve(r.name, "CNAME") as Promise<string[]>);
      if ("ok" in q && q.ok.some((h) => h.toLowerCase().replace(/\.$/, "") === r.data)) return res("right", q.ok);
      const a = await query(() => resolver.a(r.name));
      if ("error" in a) return res("error", [], a.error);
      if ("missing" in a) return res("missing", "ok" in q ? q.ok : []);
      const addrs = await serverAddrs();
      return a.ok.some((x) => addrs.includes(x)) ? res("right", a.ok) : res("wrong", a.ok, `does not lead to ${r.data}`);
    }
    case "TLSA":
      // The resolver has no TLSA query; DANE needs DNSSEC, checked by the validating resolver.
      return res("right", [], "not checked here: verify with `dig TLSA` at a DNSSEC-validating resolver");
    case "SRV": {
      const q = await query(() => resolver.resolve(r.name, "SRV") as Promise<{ port: number; name: string }[]>);
      if ("error" in q) return res("error", [], q.error);
      if ("missing" in q) return res("missing", []);
      const found = q.ok.map((s) => (s.name === "." ? "0 0 0 ." : `${s.port} ${s.name}.`));
      const ok = r.data === "." ? q.ok.every((s) => s.name === ".") : q.ok.some((s) => s.name.toLowerCase() === r.data && s.port === r.port);
      return ok ? res("right", found) : res("wrong", found);
    }
    case "TXT": {
      const q = await query(() => resolver.txt(r.name));
      if ("error" in q) return res("error", [], q.error);
      const all = "missing" in q ? [] : q.ok;
      const kind = r.data.split(";")[0]!.split(" ")[0]!.toLowerCase(); // v=spf1 | v=dkim1 | v=dmarc1 | v=stsv1 | v=tlsrptv1
      const mine = all.filter((t) => t.trim().toLowerCase().startsWith(kind));
      if (mine.length === 0) return res("missing", all.length ? all : []);
      if (kind === "v=stsv1") {
        if (mine.length > 1) return res("wrong", mine, "more than one STSv1 record");
        return tags(mine[0]!).get("id") === tags(r.data).get("id") ? res("right", mine) : res("wrong", mine, "the id is not the served policy's: senders keep the old policy");
      }
      if (kind === "v=tlsrptv1") return tags(mine[0]!).get("rua") ? res("right", mine) : res("wrong", mine, "no rua= tag");
      if (kind === "v=spf1") {
        // RFC 7208 §4.5: more than one SPF record is a permerror.
        if (mine.length > 1) return res("wrong", mine, "more than one SPF record (permerror)");
        if (norm(mine[0]!) === norm(r.data)) return res("right", mine);
        const addrs = await serverAddrs();
        if (await spfAuthorizes(r.name, addrs, resolver, opts.hostname)) return res("right", mine, "differs from the suggestion but authorizes this server");
        return res("wrong", mine, addrs.length ? "does not authorize this server's addresses" : `differs from the suggestion`);
      }
      if (kind === "v=dkim1") {
        const want = tags(r.data).get("p");
        const ok = mine.some((t) => tags(t).get("p") === want);
        return ok ? res("right", mine) : res("wrong", mine, "the published key is not this server's key");
      }
      // DMARC (RFC 7489 §6.3): one record with a valid p= is right, whatever the policy.
      if (mine.length > 1) return res("wrong", mine, "more than one DMARC record");
      const p = tags(mine[0]!).get("p")?.toLowerCase();
      if (!p || !["none", "quarantine", "reject"].includes(p)) return res("wrong", mine, "no valid p= tag");
      return res("right", mine, p === "none" ? "p=none only monitors: forged mail is still delivered" : undefined);
    }
  }
}

function expand6(a: string): string {
  return reverseName(a);
}

/** Query every record; DNS failures are reported as "error", never as right. */
export async function checkRecords(records: DnsRecord[], opts: CheckOptions): Promise<CheckResult[]> {
  // The server's addresses for evaluating SPF: configured ones, else what the host name resolves to.
  let addrs: Promise<string[]> | undefined;
  const serverAddrs = () =>
    (addrs ??= (async () => {
      const configured = records.filter((r) => (r.type === "A" || r.type === "AAAA") && !r.placeholder).map((r) => r.data);
      if (configured.length) return configured;
      const a = await opts.resolver.a(opts.hostname).catch(() => [] as string[]);
      const aaaa = await opts.resolver.aaaa(opts.hostname).catch(() => [] as string[]);
      return [...a, ...aaaa];
    })());
  return Promise.all(records.map((r) => checkOne(r, opts, serverAddrs)));
}

export function formatCheck(results: CheckResult[]): string {
  const lines: string[] = [];
  for (const c of results) {
    lines.push(`${c.status.padEnd(8)}${c.record.type.padEnd(5)} ${c.record.name}`);
    if (c.status !== "right") lines.push(`        want: ${c.record.value}`);
    if (c.found.length && c.status !== "right") for (const f of c.found) lines.push(`        have: ${f}`);
    if (c.detail) lines.push(`        ${c.detail}`);
  }
  const bad = results.filter((c) => c.status !== "right").length;
  lines.push(bad === 0 ? "all records are right" : `${bad} of ${results.length} records need attention`);
  return lines.join("\n") + "\n";
}
