// Inbound authentication of one message: SPF (RFC 7208) for MAIL FROM and HELO, DKIM
// (RFC 6376, RFC 8463), ARC (RFC 8617), DMARC (RFC 7489 / RFC 9989) with alignment and
// policy, reported as one Authentication-Results field (RFC 8601). The checks run on
// mailauth with kotakpos's resolver; the decision (reject / quarantine / defer) is ours.
// mailauth's byte-wise message scans replaced by equivalent fast ones (before any use).
import "./fast-parser.ts";
import { arc, dkimVerify, dmarc, spf, type ARCData, type ARCResult, type DKIMResult, type DMARCResult, type SPFResult } from "mailauth";
import { formatAuthHeaderRow, formatAuthservId } from "mailauth/lib/tools.js";
import net from "node:net";
import type { DataResult, Reply } from "../../core/types.ts";
import { forgedResults } from "./forged.ts";
import { parseRawHeader } from "./header.ts";

export type MailauthResolver = (name: string, rrtype: string) => Promise<unknown[]>;

export interface InboundInput {
  raw: Uint8Array;
  /** Client IP (the connection's remote address). */
  ip: string;
  helo: string;
  /** MAIL FROM address; "" for the null sender. */
  mailFrom: string;
  /** authserv-id: the configured hostname. */
  hostname: string;
  resolver: MailauthResolver;
  /** ARC sealers (d= of the newest ARC-Seal) whose passing chain overrides a DMARC failure. */
  trustedArcSealers?: string[];
}

export interface InboundResult {
  verdict: DataResult;
  /** The Authentication-Results field, CRLF-terminated. */
  header: string;
  /** Byte ranges of forged Authentication-Results fields. */
  remove: { start: number; end: number }[];
  spf: SPFResult;
  /** True when MAIL FROM was null: then `spf` is the HELO identity's result. */
  nullSender: boolean;
  helo?: SPFResult;
  dkim: DKIMResult[];
  arc?: ARCResult;
  /** The DMARC result that decided (the first when all pass). */
  dmarc?: DMARCResult;
  /** One per author domain (usually one). */
  dmarcAll: DMARCResult[];
}

const reply = (code: number, enhanced: string, text: string): Reply => ({ code, enhanced, text });

/** Key lookups per message for DKIM and ARC together: a message with hundreds of signatures
 *  (each with its own selector) must not turn into hundreds of DNS queries. Past the budget a
 *  key is "not found", so those signatures fail permanently (RFC 6376 §6.1.2 allows a
 *  verifier to limit the signatures it checks). */
export const KEY_LOOKUP_BUDGET = 16;

/** RFC 7208 §4.6.4: an SPF evaluation taking longer (slow DNS) is a temperror. */
const SPF_TIME_LIMIT_MS = 20_000;

function budgeted(resolver: ResolverFn, budget: number): ResolverFn {
  let used = 0;
  return (name, rrtype) => {
    if (++used > budget) return Promise.reject(Object.assign(new Error(`${rrtype} ${name}: lookup budget of ${budget} per message exceeded`), { code: "ENOTFOUND" }));
    return resolver(name, rrtype);
  };
}
type ResolverFn = (name: string, rrtype: string) => Promise<string[][] | string[]>;

/** `[1.2.3.4]`, `[IPv6:…]` or a bare address: no SPF HELO check (RFC 7208 §2.3 needs a name). */
function heloIsName(helo: string): boolean {
  const h = helo.replace(/^\[|\]$/g, "").replace(/^ipv6:/i, "");
  return !!helo && !net.isIP(h) && /^[a-z0-9.-]+\.[a-z0-9-]+\.?$/i.test(helo);
}

/** The DMARC decision (RFC 7489 §6.6.2): reject / quarantine on a failing aligned check,
 *  defer when DNS trouble means the answer may change (never a silent pass). */
function decide(d: DMARCResult | undefined, r: Omit<InboundResult, "verdict" | "header" | "remove">, trustedArc: string[]): DataResult {
  if (!d) return { kind: "pass" };
  const result = d.status.result;
  const domain = d.status.header?.from ?? d.domain;
  if (result === "temperror") {
    // The policy (or an alignment) could not be looked up: the domain may say reject.
    return { kind: "defer", reply: reply(451, "4.7.5", `Temporary DNS failure checking DMARC for ${domain}, try again later`) };
  }
  if (result !== "fail") return { kind: "pass" };
  const policy = d.policy;
  if (policy !== "reject" && policy !== "quarantine") return { kind: "pass" };
  // A check that failed only because DNS failed might have aligned: retry later.
  const spfTemp = r.spf.status.result === "temperror";
  const dkimTemp = r.dkim.some((x) => x.status.result === "temperror");
  if (spfTemp || dkimTemp) {
    return { kind: "defer", reply: reply(451, spfTemp ? "4.7.24" : "4.7.5", `Temporary DNS failure during SPF/DKIM checks for ${domain} (DMARC p=${policy}), try again later`) };
  }
  // RFC 8617 §7.2.1: a receiver may honour a passing chain from a sealer it trusts.
  if (r.arc?.status.result === "pass") {
    const sig = r.arc.signature;
    const sealer = sig ? sig.signingDomain?.toLowerCase() : undefined;
    if (sealer && trustedArc.includes(sealer)) return { kind: "pass" };
  }
  if (policy === "reject") return { kind: "reject", reply: reply(550, "5.7.1", `Message rejected: DMARC policy of ${domain} (no aligned SPF or DKIM pass)`) };
  return { kind: "quarantine", reason: `DMARC policy of ${domain} is quarantine and the message failed` };
}

/** Run every check; never throws for bad input or DNS trouble (those become results). */
export async function checkInbound(input: InboundInput): Promise<InboundResult> {
  const { raw, ip, helo, mailFrom, hostname } = input;
  const resolver = input.resolver as ResolverFn;
  const keyResolver = budgeted(resolver, KEY_LOOKUP_BUDGET);
  const buf = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
  const { fields } = parseRawHeader(raw);
  const remove = forgedResults(fields, hostname).map((f) => ({ start: f.start, end: f.end }));

  const heloName = heloIsName(helo) ? helo.replace(/\.$/, "") : "";
  const heloForSpf = heloName || (net.isIP(helo.replace(/^\[|\]$/g, "")) ? `[${helo.replace(/^\[|\]$/g, "")}]` : helo);
  // SPF of MAIL FROM (or of postmaster@HELO for the null sender, RFC 7208 §2.4), the HELO
  // identity on its own (§2.3), and DKIM, all at once.
  const [dkimRes, spfRes, heloRes] = await Promise.all([
    dkimVerify(buf, { resolver: keyResolver, sender: mailFrom || undefined, strict: true }),
    spf({ sender: mailFrom || undefined, ip, helo: heloForSpf, mta: hostname, resolver, maxElapsedTime: SPF_TIME_LIMIT_MS }),
    mailFrom && heloName ? spf({ sender: `postmaster@${heloName}`, ip, helo: heloName, mta: hostname, resolver, maxElapsedTime: SPF_TIME_LIMIT_MS }) : Promise.resolve(undefined),
  ]);

  const arcRes = dkimRes.arc ? await arc(dkimRes.arc as unknown as ARCData, { resolver: keyResolver, ip }) : undefined;

  // RFC 7489 §6.6.1: the author domain of the From field. Several From fields or several
  // domains in one (RFC 5322 §3.6 allows neither / rarely) would let a forger hide behind a
  // second address, so each domain is evaluated and the strictest outcome applies.
  const authors = dkimRes.headerFrom ?? [];
  const byDomain = new Map<string, string>();
  for (const a of authors)
    byDomain.set(
      a
        .slice(a.lastIndexOf("@") + 1)
        .toLowerCase()
        .replace(/\.$/, ""),
      a,
    );
  const single = dkimRes.fromFields <= 1 && byDomain.size <= 1;
  const dmarcAll: DMARCResult[] = [];
  for (const from of single ? (authors.length ? [authors] : []) : [...byDomain.values()].slice(0, 5).map((a) => [a])) {
    const r = await dmarc({
      headerFrom: from,
      fromFields: single ? dkimRes.fromFields : 1,
      spfDomains: spfRes.status.result === "pass" && spfRes.domain ? [spfRes.domain] : [],
      dkimDomains: (dkimRes.results ?? []).filter((x) => x.status.result === "pass").map((x) => ({ id: x.id, domain: x.signingDomain!, aligned: x.status.aligned, underSized: x.status.underSized })),
      arcResult: arcRes,
      resolver,
    } as Parameters<typeof dmarc>[0]);
    if (r) dmarcAll.push(r);
  }

  const parts = {
    spf: spfRes,
    nullSender: !mailFrom,
    helo: heloRes,
    dkim: dkimRes.results ?? [],
    arc: arcRes,
    dmarc: dmarcAll[0],
    dmarcAll,
  };
  const trusted = (input.trustedArcSealers ?? []).map((s) => s.toLowerCase());
  let verdict: DataResult = { kind: "pass" };
  for (const d of dmarcAll) {
    const v = decide(d, parts, trusted);
    if (RANK[v.kind] > RANK[verdict.kind]) {
      verdict = v;
      parts.dmarc = d;
    }
  }
  return { verdict, header: formatResults(hostname, parts), remove, ...parts };
}

const RANK: Record<DataResult["kind"], number> = { pass: 0, accept: 0, quarantine: 1, defer: 2, reject: 3, disconnect: 4 };

/** RFC 8601 §2.2: one field, one resinfo per method (and per DKIM signature). */
export function formatResults(hostname: string, r: Omit<InboundResult, "verdict" | "header" | "remove">): string {
  const rows: string[] = [];
  if (r.dkim.length === 0) rows.push("dkim=none");
  for (const d of r.dkim) rows.push(d.info ?? formatAuthHeaderRow("dkim", d.status as unknown as Record<string, unknown>));
  // The MAIL FROM result names only that identity; the HELO result gets its own resinfo.
  const mf = r.spf.status as unknown as { smtp?: { mailfrom?: string; helo?: string } } & Record<string, unknown>;
  const mfStatus = { ...mf, smtp: r.nullSender ? { helo: mf.smtp?.helo } : { mailfrom: mf.smtp?.mailfrom } };
  rows.push(formatAuthHeaderRow("spf", mfStatus));
  if (r.helo) {
    const hs = r.helo.status as unknown as Record<string, unknown>;
    rows.push(formatAuthHeaderRow("spf", { ...hs, smtp: { helo: r.helo.helo } }));
  }
  if (r.arc) rows.push(r.arc.info ?? formatAuthHeaderRow("arc", r.arc.status as unknown as Record<string, unknown>));
  for (const d of r.dmarcAll) rows.push(d.info);
  return `Authentication-Results: ${formatAuthservId(hostname)};\r\n ${rows.map(foldRow).join(";\r\n ")}\r\n`;
}

/** Keep lines under ~78 chars where a resinfo has spaces to break at (RFC 5322 §2.1.1). */
function foldRow(row: string): string {
  const words = row.split(" ");
  const lines: string[] = [];
  let line = "";
  for (const w of words) {
    if (line && line.length + 1 + w.length > 76) {
      lines.push(line);
      line = w;
    } else line = line ? `${line} ${w}` : w;
  }
  lines.push(line);
  return lines.join("\r\n\t");
}
