// Shapes of names the admin commands accept (checked before touching the database).
import { UsageError } from "./errors.ts";

/** A domain name: LDH labels or Unicode letters (U-labels), lower-cased. */
export function domainName(raw: string): string {
  const d = raw.trim().toLowerCase().replace(/\.$/, "");
  const label = /^(?!-)[\p{L}\p{N}-]{1,63}(?<!-)$/u;
  if (d.length > 253 || !d.includes(".") || !d.split(".").every((l) => label.test(l))) throw new UsageError(`"${raw}" is not a domain name like example.com`);
  return d;
}

/** An address local@domain; the domain lower-cased (the local part is kept as given). */
export function mailAddress(raw: string): { address: string; local: string; domain: string } {
  const at = raw.lastIndexOf("@");
  const local = raw.slice(0, at);
  if (at <= 0 || raw.length > 254 || local.length > 64 || /[\s<>()[\]\\,;:"]/.test(local)) throw new UsageError(`"${raw}" is not an address like user@example.com`);
  const domain = domainName(raw.slice(at + 1));
  return { address: `${local}@${domain}`, local, domain };
}
