// Our own domains are never spoofable to our own users: mail arriving unauthenticated (port
// 25) with one of our domains as envelope sender or author is refused unless SPF (envelope)
// or DMARC (author) passes for it — that is, unless it comes from a server the domain's own
// DNS records authorize. Authenticated submissions never get here (they are checked
// against smtp.sendas instead).
import type { Reply } from "../../core/types.ts";

export interface OwnDomainInput {
  /** MAIL FROM; "" for the null sender. */
  mailFrom: string;
  spf: string;
  /** One per author domain, with the DMARC result for it. */
  authors: { domain: string; dmarc: string }[];
  /** Domains with a passing DKIM signature. */
  dkimPass: string[];
  isLocal(domain: string): Promise<boolean>;
}

export type OwnDomainVerdict = { kind: "reject" | "defer"; reply: Reply } | null;

const domainOf = (a: string) =>
  a
    .slice(a.lastIndexOf("@") + 1)
    .toLowerCase()
    .replace(/\.$/, "");

export async function ownDomainCheck(i: OwnDomainInput): Promise<OwnDomainVerdict> {
  const envDomain = i.mailFrom ? domainOf(i.mailFrom) : "";
  // The passing cases first: they need no lookup of our domains (one per message saved).
  for (const a of i.authors) {
    if (a.dmarc === "pass") continue;
    // No DMARC record (dmarc=none): an aligned SPF or DKIM pass still shows it came from us.
    if (a.dmarc === "none" && ((i.spf === "pass" && envDomain === a.domain) || i.dkimPass.includes(a.domain))) continue;
    if (!(await i.isLocal(a.domain))) continue;
    if (a.dmarc === "temperror") return { kind: "defer", reply: { code: 451, enhanced: "4.7.5", text: `Temporary DNS failure checking DMARC for our domain ${a.domain}, try again later` } };
    return { kind: "reject", reply: { code: 550, enhanced: "5.7.1", text: `From: ${a.domain} is a domain of this server; mail from it must pass DMARC (log in to send, RFC 6409)` } };
  }
  if (envDomain && i.spf !== "pass" && !i.authors.some((a) => a.domain === envDomain && a.dmarc === "pass") && (await i.isLocal(envDomain))) {
    if (i.spf === "temperror") return { kind: "defer", reply: { code: 451, enhanced: "4.7.24", text: `Temporary DNS failure checking SPF for our domain ${envDomain}, try again later` } };
    return { kind: "reject", reply: { code: 550, enhanced: "5.7.1", text: `MAIL FROM: ${envDomain} is a domain of this server; mail from it must pass SPF or DMARC (log in to send, RFC 6409)` } };
  }
  return null;
}
