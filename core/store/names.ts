// Normalization of domain names, addresses and mailbox names.
import { domainToUnicode } from "node:url";
import { StoreError } from "./errors.ts";

/** Lower-case Unicode (U-label) form; punycode input converted (RFC 5890). */
export function normalizeDomain(name: string): string {
  const d = name.trim().toLowerCase().replace(/\.$/, "");
  if (!d || d.length > 253 || /[\s@/\\]/.test(d)) throw new StoreError("INVALID", `invalid domain: ${name}`);
  const u = domainToUnicode(d);
  return u ? u.toLowerCase() : d;
}

/** "local@domain" with the domain normalized and the local part lower-cased
 *  (local parts are looked up case-insensitively). */
export function normalizeAddress(address: string): { address: string; local: string; domain: string } {
  const a = address.trim();
  const at = a.lastIndexOf("@");
  if (at <= 0 || at === a.length - 1 || a.length > 320) throw new StoreError("INVALID", `invalid address: ${address}`);
  const local = a.slice(0, at).toLowerCase();
  if (/[\s<>]/.test(local) || local.length > 64) throw new StoreError("INVALID", `invalid address: ${address}`);
  const domain = normalizeDomain(a.slice(at + 1));
  return { address: `${local}@${domain}`, local, domain };
}

export const DELIM = "/";
const MAX_NAME = 512;

/** Mailbox name: "INBOX" (any case) and an "INBOX/" prefix are canonicalized (RFC 9051 §5.1). */
export function normalizeMailboxName(name: string): string {
  const n = name;
  if (n.toUpperCase() === "INBOX") return "INBOX";
  if (n.length > 6 && n.slice(0, 6).toUpperCase() === "INBOX/") return "INBOX/" + n.slice(6);
  return n;
}

/** Rejects names a client could not use: empty components, control characters, too long. */
export function validateMailboxName(name: string): void {
  if (!name || name.length > MAX_NAME) throw new StoreError("INVALID", "invalid mailbox name");
  if (/[\x00-\x1f\x7f]/.test(name)) throw new StoreError("INVALID", "mailbox name contains control characters");
  if (name.split(DELIM).some((c) => c === "")) throw new StoreError("INVALID", "mailbox name has an empty hierarchy level");
}

/** "a/b/c" → ["a", "a/b"] */
export function superiors(name: string): string[] {
  const parts = name.split(DELIM);
  const out: string[] = [];
  for (let i = 1; i < parts.length; i++) out.push(parts.slice(0, i).join(DELIM));
  return out;
}
