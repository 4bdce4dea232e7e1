// DMARC-aligned known senders (issue 22): greylisting is decided at RCPT, before the
// message, so "this sender is known" must rest on what is known there — the client IP and
// the envelope (MAIL FROM) domain. At DATA we remember a MAIL FROM domain when its message
// passed DMARC aligned with that very domain (RFC 7489 §3.1: the envelope domain is the
// From domain or below it) and was kept (not filed into Junk). At a later RCPT from any
// network, the domain being remembered is not enough — the envelope is unauthenticated, a
// spammer could claim it — so SPF (RFC 7208) must pass for the connecting IP now: then the
// sender is that domain's own server, already trusted, and is not greylisted.

/** True when the envelope domain is the DMARC-passing From domain or a subdomain of it
 *  (relaxed alignment as far as it can be told without the public-suffix list). */
export function envelopeAligned(mailFromDomain: string, dmarcDomain: string): boolean {
  const m = mailFromDomain.toLowerCase().replace(/\.$/, "");
  const d = dmarcDomain.toLowerCase().replace(/\.$/, "");
  return m !== "" && d !== "" && (m === d || m.endsWith(`.${d}`));
}

/** The `net` of greylist_passed rows that remember a domain for every network. */
export const DMARC_NET = "dmarc";
