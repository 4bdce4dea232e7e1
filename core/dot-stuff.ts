// Dot-stuffing, the transparency of SMTP DATA (RFC 5321 §4.5.2) and of POP3 multi-line
// responses (RFC 1939 §3): a line starting with "." gets one more, and the data ends with
// CRLF "." CRLF (a CRLF first when the data does not end with one). Input is CRLF-clean.
// Returns the pieces to write, so a large message is not copied; Buffer.concat them for
// one write.

const DOT = Buffer.from(".");
const CRLF_DOT = Buffer.from("\r\n.");
const END = Buffer.from(".\r\n");
const CRLF_END = Buffer.from("\r\n.\r\n");

const asBuffer = (b: Uint8Array): Buffer => (Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength));
const endsWithCrlf = (b: Uint8Array): boolean => b.length >= 2 && b[b.length - 2] === 0x0d && b[b.length - 1] === 0x0a;

/** Appends the stuffed pieces of `src`, which starts at a line start, to `chunks`. */
function stuffInto(src: Buffer, chunks: Buffer[]): void {
  let from = 0;
  if (src[0] === 0x2e) chunks.push(DOT);
  for (let i = src.indexOf(CRLF_DOT); i >= 0; i = src.indexOf(CRLF_DOT, i + 3)) {
    chunks.push(src.subarray(from, i + 2), DOT); // the line's own dot follows from `from`
    from = i + 2;
  }
  if (from < src.length) chunks.push(from === 0 ? src : src.subarray(from));
}

export function dotStuff(parts: Uint8Array[]): Buffer[] {
  const chunks: Buffer[] = [];
  // Parts that end at a line end (a stored prefix of header lines, then the blob) are
  // stuffed one by one; otherwise a line may run across a boundary: one copy first.
  const aligned = parts.every((p, i) => i === parts.length - 1 || endsWithCrlf(p));
  const srcs = aligned ? parts.filter((p) => p.length > 0).map(asBuffer) : [Buffer.concat(parts)];
  for (const src of srcs) stuffInto(src, chunks);
  const last = srcs[srcs.length - 1];
  chunks.push(last === undefined || last.length === 0 || endsWithCrlf(last) ? END : CRLF_END);
  return chunks;
}
