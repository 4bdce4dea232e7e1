// Sender reputation (as in mox): a DMARC-aligned sender domain (RFC 7489: the From domain
// authenticated by SPF or DKIM) whose earlier mail the user kept is trusted, one whose mail
// the user junked is junked, without asking the classifier. Learned from the
// Authentication-Results our mailauth check stored with each message (RFC 8601).
import { parseFields, splitHeader } from "../../core/mime/index.ts";

export interface SenderCounts {
  ham: number;
  spam: number;
}

/** The domain the reputation is kept for: the last two labels (an approximation of the
 *  organizational domain that is the same at delivery and at training). */
export function reputationKey(domain: string): string {
  return domain.toLowerCase().replace(/\.$/, "").split(".").slice(-2).join(".");
}

/** The From domain that passed DMARC, from our own Authentication-Results field
 *  (authserv-id = our hostname; forged ones were dropped at delivery), or null. */
export function dmarcPassFrom(raw: Uint8Array, hostname: string): string | null {
  const { headerEnd } = splitHeader(raw, 0, raw.length);
  for (const f of parseFields(raw, 0, headerEnd)) {
    if (f.name !== "authentication-results") continue;
    const [id = "", ...rest] = f.value.split(";");
    if (id.trim().toLowerCase() !== hostname.toLowerCase()) continue;
    for (const r of rest) {
      const m = /^\s*dmarc=pass\b.*?\bheader\.from=([^\s;]+)/i.exec(r);
      if (m) return m[1]!.toLowerCase();
    }
  }
  return null;
}

/** Kept twice more often than junked (at least twice): trusted; junked more often than
 *  kept: junk; otherwise the classifier decides. */
export function decide(c: SenderCounts | null): "trusted" | "junk" | null {
  if (!c) return null;
  if (c.spam > c.ham) return "junk";
  if (c.ham >= 2 && c.ham >= 2 * c.spam) return "trusted";
  return null;
}
