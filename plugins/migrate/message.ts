// Checks and conversions shared by every source: CRLF line ends, "is this a message at
// all", header fields read for flags, and dates.
import { decodeWords, getField, parseDate, parseHeaderBytes, type HeaderField } from "../../core/mime/index.ts";

const CR = 13;
const LF = 10;

/** Bare LF (and a lone CR) become CRLF, as IMAP requires (RFC 9051 §2.2); CRLF input is
 *  returned as is. */
export function toCrlf(b: Uint8Array): Uint8Array {
  let bare = 0;
  for (let i = 0; i < b.length; i++) {
    if (b[i] === LF && (i === 0 || b[i - 1] !== CR)) bare++;
    else if (b[i] === CR && b[i + 1] !== LF) bare++;
  }
  if (!bare) return b;
  const out = new Uint8Array(b.length + bare);
  let o = 0;
  for (let i = 0; i < b.length; i++) {
    const c = b[i]!;
    if (c === LF && (i === 0 || b[i - 1] !== CR)) out[o++] = CR;
    out[o++] = c;
    if (c === CR && b[i + 1] !== LF) out[o++] = LF;
  }
  return out.subarray(0, o);
}

/** CRLF → LF (mbox files use LF). */
export function toLf(b: Uint8Array): Uint8Array {
  const out = new Uint8Array(b.length);
  let o = 0;
  for (let i = 0; i < b.length; i++) if (!(b[i] === CR && b[i + 1] === LF)) out[o++] = b[i]!;
  return out.subarray(0, o);
}

/** Why these bytes are not a message, or null when they are one: a message starts with a
 *  header field (RFC 5322 §2.2) and is text, not binary. */
export function notAMessage(b: Uint8Array): string | null {
  if (!b.length) return "empty";
  let i = 0;
  while (i < b.length && i < 1000 && ((b[i]! >= 33 && b[i]! <= 126 && b[i] !== 58) || b[i] === 0x20)) i++;
  if (i === 0 || b[i] !== 58) return "not a message (it does not start with a header field)";
  const probe = b.subarray(0, Math.min(b.length, 8192));
  if (probe.includes(0)) return "not a message (binary data)";
  return null;
}

export function headerOf(raw: Uint8Array): { fields: HeaderField[]; bodyStart: number } {
  return parseHeaderBytes(raw);
}

/** Removes whole header fields (with continuation lines) by lower-case name from the
 *  header block; returns the bytes and the removed values. */
export function removeFields(raw: Uint8Array, names: Set<string>): { raw: Uint8Array; removed: HeaderField[] } {
  const { bodyStart } = parseHeaderBytes(raw);
  const removed: HeaderField[] = [];
  const keep: [number, number][] = [];
  let pos = 0;
  let dropping = false;
  while (pos < bodyStart) {
    let end = raw.indexOf(LF, pos);
    end = end < 0 || end >= bodyStart ? bodyStart : end + 1;
    const first = raw[pos]!;
    const continuation = first === 0x20 || first === 0x09;
    if (!continuation) {
      const colon = raw.indexOf(58, pos);
      const name = colon > pos && colon < end ? new TextDecoder().decode(raw.subarray(pos, colon)).trim().toLowerCase() : "";
      dropping = names.has(name);
      if (dropping) removed.push({ name, value: new TextDecoder().decode(raw.subarray(colon + 1, end)).trim() });
    } else if (dropping && removed.length) {
      removed[removed.length - 1]!.value += " " + new TextDecoder().decode(raw.subarray(pos, end)).trim();
    }
    if (!dropping) keep.push([pos, end]);
    pos = end;
  }
  if (!removed.length) return { raw, removed };
  const parts = [...keep.map(([s, e]) => raw.subarray(s, e)), raw.subarray(bodyStart)];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return { raw: out, removed };
}

/** The date of the newest Received field (when the message arrived), else Date. */
export function receivedDate(fields: HeaderField[]): number | null {
  const rcvd = getField(fields, "received");
  if (rcvd) {
    const t = parseDate(rcvd.slice(rcvd.lastIndexOf(";") + 1).trim());
    if (t !== null) return t;
  }
  return parseDate(getField(fields, "date"));
}

export { decodeWords, getField };
