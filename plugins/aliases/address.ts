// Address normalization for alias lookups: case-insensitive local parts (unless
// configured otherwise), IDN domains in one form (punycode and UTF-8 are the same domain,
// RFC 5890 §2.3.2.1), and the sub-address tag of `user+tag@` (RFC 5233 §2).
import { domainToASCII, domainToUnicode } from "node:url";

/** Lower-cased U-label form ("xn--bcher-kva.example" → "bücher.example"); no trailing dot. */
export function normDomain(domain: string): string {
  const d = domain.trim().replace(/\.$/, "").toLowerCase();
  const u = domainToUnicode(d);
  return u === "" ? d : u;
}

/** Both spellings of a domain (Unicode and ASCII), for lookups of rows stored either way. */
export function domainForms(domain: string): string[] {
  const u = normDomain(domain);
  const a = domainToASCII(u);
  return a && a !== u ? [u, a] : [u];
}

export function normLocal(local: string, caseSensitive: boolean): string {
  return caseSensitive ? local : local.toLowerCase();
}

/** Split at the last "@"; null when there is no local part or no domain. */
export function splitAddress(address: string): { local: string; domain: string } | null {
  const at = address.lastIndexOf("@");
  if (at <= 0 || at === address.length - 1) return null;
  return { local: address.slice(0, at), domain: address.slice(at + 1) };
}

/** `user+tag` → { base: "user", tag: "tag" } at the first separator character (any of
 *  `separators`); null when there is none or the base would be empty. */
export function splitTag(local: string, separators: string): { base: string; tag: string } | null {
  if (!separators) return null;
  for (let i = 1; i < local.length; i++) {
    if (separators.includes(local[i]!)) return { base: local.slice(0, i), tag: local.slice(i + 1) };
  }
  return null;
}

/** Valid shapes for stored alias addresses and targets (checked before they reach the DB). */
const LOCAL_RE = /^[^\s<>()[\]\\,;:"@]+$/u;
const LABEL_RE = /^(?!-)[\p{L}\p{N}\p{M}-]{1,63}(?<!-)$/u;

export function isValidDomain(domain: string): boolean {
  const d = normDomain(domain);
  return d.length > 0 && d.length <= 253 && d.includes(".") && d.split(".").every((l) => LABEL_RE.test(l));
}

export function isValidLocal(local: string): boolean {
  // RFC 5321 §4.5.3.1.1: at most 64 octets.
  return local.length > 0 && Buffer.byteLength(local) <= 64 && LOCAL_RE.test(local);
}
