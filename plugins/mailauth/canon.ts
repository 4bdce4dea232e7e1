// DKIM "relaxed" canonicalization (RFC 6376 §3.4.2 header, §3.4.4 body). Inputs and
// outputs are latin1 strings (one char per byte) so 8-bit headers hash as sent.
import { createHash } from "node:crypto";

/** §3.4.2: lower-case name, unfold, collapse WSP runs to one SP, trim around the colon and at the end. */
export function relaxedHeader(rawField: string): string {
  const colon = rawField.indexOf(":");
  const name = rawField
    .slice(0, colon)
    .replace(/[ \t]+$/, "")
    .toLowerCase();
  const value = rawField
    .slice(colon + 1)
    .replace(/\r\n/g, "")
    .replace(/[ \t]+/g, " ")
    .replace(/^ | $/g, "");
  return `${name}:${value}`;
}

/** §3.4.4 applied to the body bytes, hashed with SHA-256 (§3.7); base64 for the bh= tag. */
export function relaxedBodyHash(msg: Uint8Array, bodyStart: number): string {
  const hash = createHash("sha256");
  const n = msg.length;
  // Trailing empty lines are dropped (§3.4.4 "Ignore all empty lines at the end"), so an
  // empty line is only written once a non-empty one follows.
  let pendingEmpty = 0;
  let pos = bodyStart;
  // Work on chunks of lines to keep string sizes bounded for large bodies.
  const out: string[] = [];
  let outLen = 0;
  const flush = () => {
    if (out.length) hash.update(out.join(""), "latin1");
    out.length = 0;
    outLen = 0;
  };
  while (pos < n) {
    let nl = msg.indexOf(10, pos);
    const next = nl < 0 ? n : nl + 1;
    if (nl < 0) nl = n;
    const lineEnd = nl > pos && msg[nl - 1] === 13 ? nl - 1 : nl;
    let line = lineEnd > pos ? Buffer.from(msg.buffer, msg.byteOffset + pos, lineEnd - pos).toString("latin1") : "";
    if (line.length) line = line.replace(/[ \t]+/g, " ").replace(/ $/, "");
    if (line.length === 0) {
      pendingEmpty++;
    } else {
      if (pendingEmpty) {
        out.push("\r\n".repeat(pendingEmpty));
        pendingEmpty = 0;
      }
      out.push(line, "\r\n");
      outLen += line.length + 2;
      if (outLen > 1 << 20) flush();
    }
    pos = next;
  }
  flush();
  // An empty body hashes as the empty string under relaxed (RFC 6376 errata 3192).
  return hash.digest("base64");
}
