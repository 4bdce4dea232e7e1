// Mailbox names: modified UTF-7 for IMAP4rev1 clients (RFC 3501 §5.1.3), UTF-8 for
// IMAP4rev2 / UTF8=ACCEPT (RFC 9051 §5.1, RFC 6855); LIST patterns (RFC 9051 §6.3.9).
export const DELIM = "/";

// Modified UTF-7 lives in the core: the migrate plugin reads and writes such names too.
import { decodeMutf7 } from "../../core/store/mutf7.ts";
export { decodeMutf7, encodeMutf7 } from "../../core/store/mutf7.ts";

/** A client's mailbox name or pattern in our (Unicode) spelling: UTF-8 once the session
 *  speaks it (IMAP4rev2 or UTF8=ACCEPT), else modified UTF-7. */
export function fromWire(s: { readonly utf8: boolean }, name: string): string {
  if (s.utf8) return name;
  return decodeMutf7(name) ?? name;
}

/** Canonical form of a name the client sent: "INBOX" in any case is INBOX (§5.1). */
export function canonicalName(name: string): string {
  if (name.toUpperCase() === "INBOX") return "INBOX";
  if (name.toUpperCase().startsWith("INBOX" + DELIM)) return "INBOX" + name.slice(5);
  return name;
}

/** Rejects names the store must never see: empty levels, wildcards, control characters. */
export function validName(name: string): boolean {
  if (name.length === 0 || Buffer.byteLength(name) > 512) return false;
  if (/[\x00-\x1f\x7f*%]/.test(name)) return false;
  return name.split(DELIM).every((p) => p.length > 0);
}

/** RFC 9051 §6.3.9: "*" matches anything, "%" anything but the delimiter. */
export function patternToRegExp(pattern: string): RegExp {
  let re = "^";
  for (const ch of pattern) {
    if (ch === "*") re += ".*";
    else if (ch === "%") re += "[^/]*";
    else re += ch.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  }
  // INBOX is case-insensitive: match the pattern's INBOX prefix in any case.
  return new RegExp(re + "$", "s");
}

export function matchPattern(name: string, re: RegExp, pattern: string): boolean {
  if (re.test(name)) return true;
  if (name === "INBOX" || name.startsWith("INBOX/")) {
    const up = pattern.toUpperCase();
    if (up.startsWith("INBOX")) return patternToRegExp("INBOX" + pattern.slice(5)).test(name);
  }
  return false;
}
