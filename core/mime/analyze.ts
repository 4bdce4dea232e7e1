// Parse once at delivery (DESIGN.md): structure, envelope and the decoded search fields
// (subject, addresses, Message-ID, Date, a short text preview).
import type { Envelope, EnvelopeAddress, MimePart } from "./types.ts";
import { parseStructure } from "./structure.ts";
import { envelopeFromFields } from "./envelope.ts";
import { getField, parseFields, splitHeader } from "./header.ts";
import { decodeTransfer, decodeWords } from "./decode.ts";
import { decodeCharset } from "./text.ts";

export const PREVIEW_CHARS = 200;
/** Body bytes decoded for the preview at most: plain text needs little, HTML may open
 *  with a long <head>. */
const PREVIEW_TEXT_BYTES = 2 * 1024;
const PREVIEW_HTML_BYTES = 32 * 1024;

/** What parsing once at delivery yields: the IMAP envelope and structure, and search
 *  fields decoded for SEARCH/SORT without reparsing. */
export interface Analysis {
  envelope: Envelope;
  structure: MimePart;
  subject: string;
  from: string;
  to: string;
  cc: string;
  bcc: string;
  messageId: string;
  /** The Date: header, ms since epoch. */
  sentDate: number | null;
  preview: string;
}

/** Analyzes `raw` (the message without our prefix); offsets in `structure` are shifted by
 *  `prefixSize` and the top-level header starts at 0 so it includes the prefix. */
export function analyze(raw: Uint8Array, prefixSize = 0): Analysis {
  const structure = parseStructure(raw, prefixSize);
  structure.headerStart = 0;
  const { headerEnd } = splitHeader(raw, 0, raw.length);
  const fields = parseFields(raw, 0, headerEnd);
  const envelope = envelopeFromFields(fields);
  return {
    envelope,
    structure,
    subject: decodeWords(getField(fields, "subject") ?? "")
      .replace(/\s+/g, " ")
      .trim(),
    from: formatAddresses(envelope.from),
    to: formatAddresses(envelope.to),
    cc: formatAddresses(envelope.cc),
    bcc: formatAddresses(envelope.bcc),
    messageId: (getField(fields, "message-id") ?? "").trim(),
    sentDate: parseDate(getField(fields, "date")),
    preview: preview(raw, structure, prefixSize),
  };
}

/** "Name <local@host>, …" with display names decoded; groups flattened. */
export function formatAddresses(list: EnvelopeAddress[] | null): string {
  if (!list) return "";
  const out: string[] = [];
  for (const a of list) {
    if (a.host === null) continue; // group markers
    const addr = a.host ? `${a.mailbox}@${a.host}` : (a.mailbox ?? "");
    const name = a.name ? decodeWords(a.name).trim() : "";
    out.push(name ? `${name} <${addr}>` : addr);
  }
  return out.join(", ");
}

/** RFC 5322 §3.3 date-time (comments and obsolete zones tolerated); null if unparsable. */
export function parseDate(v: string | null): number | null {
  if (!v) return null;
  const s = v
    .replace(/\([^)]*\)/g, " ")
    .replace(/\s+/g, " ")
    .trim();
  let t = Date.parse(s);
  if (Number.isNaN(t)) t = Date.parse(s.replace(/^[A-Za-z]+,\s*/, ""));
  return Number.isNaN(t) ? null : t;
}

function findTextPart(p: MimePart, subtype: string, depth = 0): MimePart | null {
  if (depth > 40) return null;
  if (p.parts) {
    for (const c of p.parts) {
      const f = findTextPart(c, subtype, depth + 1);
      if (f) return f;
    }
    return null;
  }
  if (p.disposition?.type === "attachment") return null;
  return p.type === "text" && p.subtype === subtype ? p : null;
}

function preview(raw: Uint8Array, structure: MimePart, offset: number): string {
  const part = findTextPart(structure, "plain") ?? findTextPart(structure, "html");
  if (!part) return "";
  const start = part.bodyStart - offset;
  const end = Math.min(part.end - offset, start + (part.subtype === "html" ? PREVIEW_HTML_BYTES : PREVIEW_TEXT_BYTES));
  if (start < 0 || end <= start) return "";
  let text = decodeCharset(decodeTransfer(raw.subarray(start, end), part.encoding), part.params.charset);
  if (part.subtype === "html") text = htmlToText(text);
  text = text.replace(/\s+/g, " ").trim();
  if (text.length > PREVIEW_CHARS) text = text.slice(0, PREVIEW_CHARS - 1).trimEnd() + "…";
  return text;
}

const ENTITIES: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'", nbsp: " " };

/** HTML to plain text (tags, comments, style/script dropped; entities decoded); also used by plugins/junk. */
export function htmlToText(html: string): string {
  return html
    .replace(/<(style|script|head|title)\b[\s\S]*?(<\/\1\s*>|$)/gi, " ")
    .replace(/<!--[\s\S]*?(-->|$)/g, " ")
    .replace(/<[^>]*>?/g, " ")
    .replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (m, e: string) => {
      if (e[0] === "#") {
        const n = e[1] === "x" || e[1] === "X" ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
        return n > 0 && n < 0x110000 ? String.fromCodePoint(n) : " ";
      }
      return ENTITIES[e.toLowerCase()] ?? m;
    });
}
