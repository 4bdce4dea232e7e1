// Byte-level helpers of the outbound SMTP client.
import { dotStuff as dotStuffPieces } from "../dot-stuff.ts";

/** RFC 5321 §4.5.2 transparency (core/dot-stuff.ts), in one buffer so that it goes out
 *  in one write (no Nagle stall). */
export function dotStuff(parts: Uint8Array[]): Buffer {
  return Buffer.concat(dotStuffPieces(parts));
}

/** True when any byte is outside 7-bit ASCII (the body needs 8BITMIME, RFC 6152). */
export function has8bit(parts: Uint8Array[]): boolean {
  for (const p of parts) for (let i = 0; i < p.length; i++) if (p[i]! > 0x7f) return true;
  return false;
}

/** True when an address needs SMTPUTF8 (RFC 6531 §3.2). */
export function isUtf8Address(address: string): boolean {
  return /[^\x00-\x7f]/.test(address);
}

/** xtext (RFC 3461 §4) for ORCPT / ENVID. */
export function xtext(s: string): string {
  return s.replace(/[^\x21-\x7e]|[+=]/g, (c) => "+" + c.charCodeAt(0).toString(16).toUpperCase().padStart(2, "0"));
}
