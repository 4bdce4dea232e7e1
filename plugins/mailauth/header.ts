// The header section of a message as raw fields with byte offsets (RFC 5322 §2.2): DKIM
// canonicalization needs the exact bytes, forged-header removal needs the ranges.
// Strings are latin1 ("binary") so every byte maps to one char and back unchanged.

export interface RawField {
  /** Lower-case field name. */
  name: string;
  /** The whole field as bytes-in-chars (latin1), name and folds included, without the final CRLF. */
  raw: string;
  /** Byte range in the message, including the field's final CRLF. */
  start: number;
  end: number;
}

export interface RawHeader {
  fields: RawField[];
  /** Offset of the first body byte (after the empty line); raw.length when there is none. */
  bodyStart: number;
}

/** Bound: a header with more fields than this is hostile; the rest is treated as body. */
const MAX_FIELDS = 2000;

/** Split the header section (fields until the first empty line). Tolerates bare LF. */
export function parseRawHeader(msg: Uint8Array): RawHeader {
  const fields: RawField[] = [];
  let pos = 0;
  const n = msg.length;
  let cur: RawField | null = null;
  while (pos < n) {
    let nl = msg.indexOf(10, pos);
    const next = nl < 0 ? n : nl + 1;
    if (nl < 0) nl = n;
    const lineEnd = nl > pos && msg[nl - 1] === 13 ? nl - 1 : nl;
    if (lineEnd === pos) {
      // The empty line ends the header (RFC 5322 §2.1).
      if (cur) fields.push(cur);
      return { fields, bodyStart: next };
    }
    const b0 = msg[pos];
    const line = latin1(msg, pos, lineEnd);
    if ((b0 === 32 || b0 === 9) && cur) {
      cur.raw += "\r\n" + line;
      cur.end = next;
    } else {
      const colon = line.indexOf(":");
      if (colon <= 0 || fields.length >= MAX_FIELDS) {
        // Not a field: the body starts here (no empty line).
        if (cur) fields.push(cur);
        return { fields, bodyStart: pos };
      }
      if (cur) fields.push(cur);
      cur = { name: line.slice(0, colon).trim().toLowerCase(), raw: line, start: pos, end: next };
    }
    pos = next;
  }
  if (cur) fields.push(cur);
  return { fields, bodyStart: n };
}

export function latin1(b: Uint8Array, start = 0, end = b.length): string {
  return Buffer.from(b.buffer, b.byteOffset + start, end - start).toString("latin1");
}

/** The unfolded value of a field (after the colon), trimmed. */
export function fieldValue(f: RawField): string {
  return f.raw
    .slice(f.raw.indexOf(":") + 1)
    .replace(/\r\n/g, "")
    .trim();
}

/** The domain of the (single) From address, lower-case; null when absent or not one. */
export function fromDomain(fields: RawField[]): string | null {
  const from = fields.filter((f) => f.name === "from");
  if (from.length !== 1) return null;
  // Quoted strings (display names, quoted local-parts) and comments are neutralized first,
  // so `"x <a@evil.test>" <b@good.test>` yields good.test.
  // Header bytes are latin1 here; an SMTPUTF8 address is UTF-8 (RFC 6532).
  const v = Buffer.from(fieldValue(from[0]!), "latin1")
    .toString("utf8")
    .replace(/"(?:[^"\\]|\\.)*"/g, "q")
    .replace(/\((?:[^()\\]|\\.)*\)/g, " ");
  // Prefer the angle-addr; else the bare addr-spec.
  const angle = /<[^<>]*@([^<>\s]+)>/.exec(v);
  const bare = /([^\s<>"(),;:]+)@([\p{L}\p{N}.-]+)/u.exec(v);
  const d = angle ? angle[1] : bare?.[2];
  return d ? d.replace(/\.$/, "").toLowerCase() : null;
}
