// Byte-level helpers of the outbound SMTP client.

/** RFC 5321 §4.5.2 transparency: a line starting with "." gets one more; the body ends
 *  with CRLF, then ".\r\n" — all in one buffer, so it goes out in one write (no Nagle stall). */
export function dotStuff(parts: Uint8Array[]): Buffer {
  const src = Buffer.concat(parts);
  const chunks: Buffer[] = [];
  let from = 0;
  if (src[0] === 0x2e) chunks.push(DOT);
  for (let i = src.indexOf(CRLF_DOT); i >= 0; i = src.indexOf(CRLF_DOT, i + 3)) {
    chunks.push(src.subarray(from, i + 2), DOT); // the line's own dot follows from `from`
    from = i + 2;
  }
  chunks.push(src.subarray(from));
  const endsWithCrlf = src.length >= 2 && src[src.length - 2] === 0x0d && src[src.length - 1] === 0x0a;
  chunks.push(endsWithCrlf || src.length === 0 ? END : CRLF_END);
  return Buffer.concat(chunks);
}

const DOT = Buffer.from(".");
const CRLF_DOT = Buffer.from("\r\n.");
const END = Buffer.from(".\r\n");
const CRLF_END = Buffer.from("\r\n.\r\n");

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
