// Dot-stuffing, the transparency of SMTP DATA (RFC 5321 §4.5.2) and of POP3 multi-line
// responses (RFC 1939 §3): a line starting with "." gets one more, and the data ends with
// CRLF "." CRLF (a CRLF first when the data does not end with one). Input is CRLF-clean.
// Returns the pieces to write, so a large message is not copied; Buffer.concat them for
// one write.

const DOT = Buffer.from(".");
const CRLF_DOT = Buffer.from("\r\n.");
const END = Buffer.from(".\r\n");
const CRLF_END = Buffer.from("\r\n.\r\n");

export function dotStuff(parts: Uint8Array[]): Buffer[] {
  const src = parts.length === 1 ? Buffer.from(parts[0]!.buffer, parts[0]!.byteOffset, parts[0]!.byteLength) : Buffer.concat(parts);
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
  return chunks;
}
