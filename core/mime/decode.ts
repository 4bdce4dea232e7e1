// Content decoders: RFC 2047 encoded words, quoted-printable and base64 (RFC 2045 §6.7, §6.8),
// all tolerant of malformed input.
import { decodeCharset } from "./text.ts";

const HEX = (c: number): number => (c >= 48 && c <= 57 ? c - 48 : c >= 65 && c <= 70 ? c - 55 : c >= 97 && c <= 102 ? c - 87 : -1);

/** Quoted-printable body (RFC 2045 §6.7); `header` = RFC 2047 "Q" (underscore is space). */
export function decodeQP(s: string | Uint8Array, header = false): Uint8Array {
  const src = typeof s === "string" ? s : null;
  const len = src ? src.length : (s as Uint8Array).length;
  const at = src ? (i: number) => src.charCodeAt(i) : (i: number) => (s as Uint8Array)[i]!;
  const out = new Uint8Array(len);
  let o = 0;
  for (let i = 0; i < len; i++) {
    const c = at(i);
    if (c === 61 /* = */) {
      if (i + 2 < len) {
        const h = HEX(at(i + 1));
        const l = HEX(at(i + 2));
        if (h >= 0 && l >= 0) {
          out[o++] = (h << 4) | l;
          i += 2;
          continue;
        }
      }
      // soft line break: "=" then optional whitespace then (CR)LF
      let j = i + 1;
      while (j < len && (at(j) === 32 || at(j) === 9)) j++;
      if (j < len && at(j) === 13) j++;
      if (j < len && at(j) === 10) {
        i = j;
        continue;
      }
      if (j >= len) break;
      out[o++] = c;
    } else if (header && c === 95 /* _ */) {
      out[o++] = 32;
    } else if (!header && (c === 32 || c === 9)) {
      // Rule 3: whitespace at the end of an encoded line is transport padding: dropped.
      let j = i + 1;
      while (j < len && (at(j) === 32 || at(j) === 9)) j++;
      const eol = j >= len || at(j) === 10 || (at(j) === 13 && j + 1 < len && at(j + 1) === 10);
      if (!eol) for (let k = i; k < j; k++) out[o++] = at(k);
      i = j - 1;
    } else {
      out[o++] = c & 0xff;
    }
  }
  return out.subarray(0, o);
}

/** Base64, skipping anything outside the alphabet (line breaks, junk). */
export function decodeBase64(s: string | Uint8Array): Uint8Array {
  const str = typeof s === "string" ? s : new TextDecoder("latin1").decode(s);
  const clean = str.replace(/[^A-Za-z0-9+/]/g, "");
  const usable = clean.length - (clean.length % 4 === 1 ? 1 : 0);
  try {
    return new Uint8Array(Buffer.from(clean.slice(0, usable), "base64"));
  } catch {
    return new Uint8Array(0);
  }
}

const ENCODED_WORD = /=\?([^?\s]+)\?([bBqQ])\?([^?]*)\?=/g;

/** Decodes RFC 2047 encoded words in a header value. Whitespace between adjacent encoded
 *  words is dropped (§6.2); bytes of adjacent words in one charset are joined before
 *  decoding so a multi-byte character split across words survives. */
export function decodeWords(value: string): string {
  if (!value.includes("=?")) return value;
  let out = "";
  let last = 0;
  let pending: { charset: string; bytes: Uint8Array[] } | null = null;
  const flush = () => {
    if (!pending) return;
    const total = pending.bytes.reduce((n, b) => n + b.length, 0);
    const all = new Uint8Array(total);
    let o = 0;
    for (const b of pending.bytes) {
      all.set(b, o);
      o += b.length;
    }
    out += decodeCharset(all, pending.charset);
    pending = null;
  };
  ENCODED_WORD.lastIndex = 0;
  for (let m = ENCODED_WORD.exec(value); m; m = ENCODED_WORD.exec(value)) {
    const between = value.slice(last, m.index);
    const charset = m[1]!.toLowerCase().replace(/\*.*$/, "");
    const bytes = m[2]!.toUpperCase() === "B" ? decodeBase64(m[3]!) : decodeQP(m[3]!, true);
    if (pending && /^[ \t\r\n]*$/.test(between) && pending.charset === charset) {
      pending.bytes.push(bytes);
    } else {
      if (pending && /^[ \t\r\n]*$/.test(between)) {
        flush();
      } else {
        flush();
        out += between;
      }
      pending = { charset, bytes: [bytes] };
    }
    last = m.index + m[0].length;
  }
  flush();
  out += value.slice(last);
  return out;
}

/** Decodes a body by its Content-Transfer-Encoding. */
export function decodeTransfer(body: Uint8Array, encoding: string): Uint8Array {
  const e = encoding.toLowerCase();
  if (e === "base64") return decodeBase64(body);
  if (e === "quoted-printable") return decodeQP(body);
  return body;
}
