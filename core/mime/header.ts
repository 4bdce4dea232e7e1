// Header block splitting (RFC 5322 §2.2, §3.2.2 folding), tolerant of bare LF line ends,
// a missing blank line, and junk lines.
import { bytesToString } from "./text.ts";

export interface HeaderField {
  /** Lower-case field name. */
  name: string;
  /** Unfolded value (CRLF removed, surrounding whitespace trimmed). */
  value: string;
}

export interface HeaderBlock {
  fields: HeaderField[];
  /** Offset of the first body byte (after the blank line, if any). */
  bodyStart: number;
}

const MAX_FIELDS = 1000;

/** RFC 5322 §3.6.8 ftext: printable US-ASCII except ":". */
function isFieldNameByte(b: number): boolean {
  return b >= 33 && b <= 126 && b !== 58;
}

/** Finds where the header block starting at `start` ends. The header ends at the first
 *  empty line (consumed) or at the first line that is neither a field nor a continuation
 *  (not consumed: it starts the body), or at `end`. */
export function splitHeader(bytes: Uint8Array, start: number, end: number): { headerEnd: number; bodyStart: number } {
  let pos = start;
  let first = true;
  while (pos < end) {
    let nl = bytes.indexOf(10, pos);
    if (nl < 0 || nl >= end) nl = end;
    const lineLen = (nl > pos && bytes[nl - 1] === 13 ? nl - 1 : nl) - pos;
    if (lineLen === 0) return { headerEnd: pos, bodyStart: Math.min(nl + 1, end) };
    const b0 = bytes[pos]!;
    if (b0 === 32 || b0 === 9) {
      if (first) return { headerEnd: pos, bodyStart: pos };
    } else if (!isFieldLine(bytes, pos, pos + lineLen)) {
      return { headerEnd: pos, bodyStart: pos };
    }
    first = false;
    pos = nl + 1;
  }
  return { headerEnd: end, bodyStart: end };
}

function isFieldLine(bytes: Uint8Array, pos: number, lineEnd: number): boolean {
  let i = pos;
  while (i < lineEnd && isFieldNameByte(bytes[i]!)) i++;
  if (i === pos) return false;
  // obs-optional: whitespace before the colon (RFC 5322 §4.5.3)
  while (i < lineEnd && (bytes[i] === 32 || bytes[i] === 9)) i++;
  return i < lineEnd && bytes[i] === 58;
}

/** Parses the fields of a header block [start, headerEnd). */
export function parseFields(bytes: Uint8Array, start: number, headerEnd: number): HeaderField[] {
  const text = bytesToString(bytes.subarray(start, headerEnd));
  return parseFieldsText(text);
}

export function parseFieldsText(text: string): HeaderField[] {
  const fields: HeaderField[] = [];
  const lines = text.split("\n");
  let cur: { name: string; parts: string[] } | null = null;
  const flush = () => {
    if (cur && fields.length < MAX_FIELDS) fields.push({ name: cur.name, value: cur.parts.join("").trim() });
    cur = null;
  };
  for (let line of lines) {
    if (line.endsWith("\r")) line = line.slice(0, -1);
    if (line === "") continue;
    const c = line.charCodeAt(0);
    if (c === 32 || c === 9) {
      if (cur) cur.parts.push(line);
      continue;
    }
    flush();
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    cur = { name: line.slice(0, colon).trim().toLowerCase(), parts: [line.slice(colon + 1)] };
  }
  flush();
  return fields;
}

/** First field of that (lower-case) name, or null. */
export function getField(fields: HeaderField[], name: string): string | null {
  for (const f of fields) if (f.name === name) return f.value;
  return null;
}

/** Parses a whole header block (e.g. the header bytes of a message). */
export function parseHeaderBytes(bytes: Uint8Array): HeaderBlock {
  const { headerEnd, bodyStart } = splitHeader(bytes, 0, bytes.length);
  return { fields: parseFields(bytes, 0, headerEnd), bodyStart };
}
