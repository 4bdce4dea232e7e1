// Header fields as JMAP parsed forms (RFC 8621 §4.1.2): Raw, Text, Addresses,
// GroupedAddresses, MessageIds, Date, URLs; and "header:Name:asForm:all" properties.
import { bytesToString, decodeWords, parseAddressList, parseDate, type EnvelopeAddress } from "../../core/mime/index.ts";

export interface RawField {
  name: string; // as written
  value: string; // raw, after the colon, folding kept, final CRLF removed
}

/** The fields of the header block [start, end) with their raw values (for :asRaw). */
export function rawFields(bytes: Uint8Array, start: number, end: number): RawField[] {
  const text = bytesToString(bytes.subarray(start, end));
  const out: RawField[] = [];
  for (const line of text.split(/\r?\n(?![ \t])/)) {
    if (!line) continue;
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    out.push({ name: line.slice(0, colon).trim(), value: line.slice(colon + 1).replace(/\r?\n$/, "") });
  }
  return out;
}

export interface EmailAddress {
  name: string | null;
  email: string;
}
export interface EmailAddressGroup {
  name: string | null;
  addresses: EmailAddress[];
}

const unfold = (v: string) => v.replace(/\r?\n([ \t])/g, "$1");

export function asText(raw: string): string {
  return decodeWords(unfold(raw))
    .replace(/[ \t]+/g, " ")
    .trim();
}

function toAddress(a: EnvelopeAddress): EmailAddress {
  const email = a.host ? `${a.mailbox ?? ""}@${a.host}` : (a.mailbox ?? "");
  return { name: a.name ? decodeWords(a.name).trim() || null : null, email };
}

export function asGroupedAddresses(raw: string): EmailAddressGroup[] {
  const groups: EmailAddressGroup[] = [];
  let cur: EmailAddressGroup | null = null;
  for (const a of parseAddressList(unfold(raw))) {
    if (a.host === null && a.mailbox !== null) {
      cur = { name: decodeWords(a.mailbox), addresses: [] };
      groups.push(cur);
    } else if (a.host === null && a.mailbox === null) {
      cur = null;
    } else {
      if (!cur) groups.push((cur = { name: null, addresses: [] }));
      cur.addresses.push(toAddress(a));
    }
  }
  return groups;
}

export function asAddresses(raw: string): EmailAddress[] {
  return asGroupedAddresses(raw).flatMap((g) => g.addresses);
}

/** Envelope addresses (stored at delivery) → EmailAddress[], groups flattened. */
export function envelopeAddresses(list: EnvelopeAddress[] | null): EmailAddress[] | null {
  if (!list) return null;
  return list.filter((a) => a.host !== null).map(toAddress);
}

export function asMessageIds(raw: string): string[] | null {
  const ids = [...unfold(raw).matchAll(/<([^<>\s]+)>/g)].map((m) => m[1]!);
  return ids.length ? ids : null;
}

export function isoDate(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}

export function asDate(raw: string): string | null {
  const t = parseDate(unfold(raw).trim());
  return t === null ? null : isoDate(t);
}

export function asURLs(raw: string): string[] | null {
  const urls = [...unfold(raw).matchAll(/<([^<>]+)>/g)].map((m) => m[1]!.replace(/\s+/g, ""));
  return urls.length ? urls : null;
}

const FORMS = { asRaw: (r: string) => r, asText, asAddresses, asGroupedAddresses, asMessageIds, asDate, asURLs } as const;
export type HeaderForm = keyof typeof FORMS;

/** "header:Name[:asForm][:all]" → its parts, or null if malformed. */
export function parseHeaderProperty(p: string): { name: string; form: HeaderForm; all: boolean } | null {
  const parts = p.split(":");
  if (parts[0] !== "header" || parts.length < 2 || parts.length > 4 || !parts[1]) return null;
  let all = false;
  let form: HeaderForm = "asRaw";
  for (const x of parts.slice(2)) {
    if (x === "all" && !all) all = true;
    else if (x in FORMS && form === "asRaw" && !all) form = x as HeaderForm;
    else return null;
  }
  return { name: parts[1], form, all };
}

export function headerValue(fields: RawField[], h: { name: string; form: HeaderForm; all: boolean }): unknown {
  const matching = fields.filter((f) => f.name.toLowerCase() === h.name.toLowerCase()).map((f) => FORMS[h.form](f.value));
  if (h.all) return matching;
  return matching.length ? matching[matching.length - 1] : null;
}
