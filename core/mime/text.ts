// Byte → string decoding with charset fallbacks (headers may carry raw UTF-8, RFC 6532,
// or legacy 8-bit bytes).
import { isAscii } from "node:buffer";

const utf8Fatal = new TextDecoder("utf-8", { fatal: true });
const latin1 = new TextDecoder("windows-1252");
const decoders = new Map<string, TextDecoder | null>();

/** ASCII fast path, then strict UTF-8, then windows-1252 (never throws). */
export function bytesToString(b: Uint8Array): string {
  // Native scan (a JS byte loop here was a tenth of the junk filter's tokenizing).
  if (isAscii(b)) return latin1.decode(b);
  try {
    return utf8Fatal.decode(b);
  } catch {
    return latin1.decode(b);
  }
}

/** Decodes bytes in a MIME charset; unknown charsets fall back like bytesToString. */
export function decodeCharset(b: Uint8Array, charset: string | undefined): string {
  const cs = (charset ?? "").trim().toLowerCase().replace(/\*.*$/, "");
  if (!cs || cs === "us-ascii" || cs === "ascii" || cs === "utf-8" || cs === "utf8") return bytesToString(b);
  let d = decoders.get(cs);
  if (d === undefined) {
    try {
      d = new TextDecoder(cs as ConstructorParameters<typeof TextDecoder>[0]);
    } catch {
      d = null;
    }
    decoders.set(cs, d);
  }
  return d ? d.decode(b) : bytesToString(b);
}
