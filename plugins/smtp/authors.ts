// The author fields of a submitted message (RFC 5322 §3.6.2: From, and Sender when
// present): exactly one From, at most one Sender, each holding addresses that the
// authenticated user may send as (the same smtp.sendas hook as MAIL FROM). Read the way a
// receiver might read them, not only the way we do: every From/Sender field anywhere in
// the header section counts, and an address-like word outside the parsed mailboxes (an
// ambiguous field other parsers could read differently) is checked too.
import addressparser from "nodemailer/lib/addressparser/index.js";
import type { Reply } from "../../core/types.ts";
import { normalizeDomain } from "./command.ts";

export type Authors = { ok: true; from: string[]; sender: string[] /** No From field: add one (RFC 6409 §8.1). */; missingFrom: boolean } | { ok: false; reply: Reply };

const refuse = (text: string): Authors => ({ ok: false, reply: { code: 550, enhanced: "5.7.1", text } });
const malformed = (text: string): Authors => ({ ok: false, reply: { code: 550, enhanced: "5.6.0", text } });

/** Unfolded values of the fields named `names`, anywhere before the empty line. */
export function headerValues(raw: Uint8Array, names: string[]): Map<string, string[]> {
  const b = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
  const start = b[0] === 13 && b[1] === 10 ? 0 : -1;
  const end = start === 0 ? 0 : b.indexOf("\r\n\r\n");
  const text = b.toString("utf8", 0, end < 0 ? b.length : end);
  const out = new Map<string, string[]>(names.map((n) => [n, []]));
  let current: { name: string; value: string } | null = null;
  const flush = () => {
    if (current) out.get(current.name)?.push(current.value);
    current = null;
  };
  for (const line of text.split("\r\n")) {
    if ((line.startsWith(" ") || line.startsWith("\t")) && current) {
      (current as { value: string }).value += line;
      continue;
    }
    flush();
    const m = /^([\x21-\x39\x3b-\x7e]+)[ \t]*:(.*)$/s.exec(line);
    if (m && out.has(m[1]!.toLowerCase())) current = { name: m[1]!.toLowerCase(), value: m[2]!.trim() };
  }
  flush();
  return out;
}

/** "local@domain" with the domain in the form smtp.sendas sees at MAIL (lower-case
 *  U-label); null when it is not a plain address. */
function canonical(address: string): string | null {
  const at = address.lastIndexOf("@");
  if (at <= 0) return null;
  const domain = normalizeDomain(address.slice(at + 1));
  return domain ? `${address.slice(0, at)}@${domain}` : null;
}

/** Remove quoted strings and comments: what is left is where an address can be. */
function unquoted(value: string): string {
  let out = "";
  let depth = 0;
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const ch = value[i]!;
    if (ch === "\\" && (quoted || depth > 0)) {
      i++;
      continue;
    }
    if (quoted) quoted = ch !== '"';
    else if (ch === '"' && depth === 0) quoted = true;
    else if (ch === "(") depth++;
    else if (ch === ")" && depth > 0) depth--;
    else if (depth === 0) out += ch;
  }
  return out;
}

function mailboxes(field: string, value: string): { ok: true; list: string[] } | { ok: false; r: Authors } {
  const parsed = addressparser(value, { flatten: true }) as { address?: string }[];
  const list: string[] = [];
  for (const p of parsed) {
    const a = p.address ? canonical(p.address) : null;
    if (!a) return { ok: false, r: malformed(`${field}: "${(p.address || value).slice(0, 100)}" is not a valid address (RFC 5322 section 3.4)`) };
    list.push(a);
  }
  if (list.length === 0) return { ok: false, r: malformed(`${field} must hold an address (RFC 5322 section 3.6.2)`) };
  // An address-like word outside the mailboxes the parser found (e.g. after the angle
  // brackets) might be what another program shows or checks: refuse the ambiguity.
  const seen = new Set(list.map((a) => a.toLowerCase()));
  for (const word of unquoted(value).match(/[^\s<>,;:"()[\]]+@[^\s<>,;:"()[\]]+/g) ?? []) {
    const a = canonical(word);
    if (!a || !seen.has(a.toLowerCase())) return { ok: false, r: refuse(`${field}: ambiguous address ${word.slice(0, 100)}; use Name <address>`) };
  }
  return { ok: true, list };
}

export function authorsOf(raw: Uint8Array): Authors {
  const v = headerValues(raw, ["from", "sender"]);
  const from = v.get("from")!;
  const sender = v.get("sender")!;
  if (from.length > 1) return malformed("Message must have exactly one From field (RFC 5322 section 3.6)");
  if (sender.length > 1) return malformed("Message must have at most one Sender field (RFC 5322 section 3.6)");
  const f = from.length ? mailboxes("From", from[0]!) : { ok: true as const, list: [] };
  if (!f.ok) return f.r;
  const s = sender.length ? mailboxes("Sender", sender[0]!) : { ok: true as const, list: [] };
  if (!s.ok) return s.r;
  if (s.list.length > 1) return malformed("Sender must hold one address (RFC 5322 section 3.6.2)");
  return { ok: true, from: f.list, sender: s.list, missingFrom: from.length === 0 };
}
