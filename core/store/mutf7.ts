// Modified UTF-7 mailbox names (RFC 3501 §5.1.3): IMAP4rev1 clients, and Maildir++
// folder names as Dovecot writes them.

/** Encodes a Unicode mailbox name; "&" becomes "&-". */
export function encodeMutf7(s: string): string {
  let out = "";
  let i = 0;
  while (i < s.length) {
    const c = s.charCodeAt(i);
    if (c >= 0x20 && c <= 0x7e) {
      out += c === 0x26 ? "&-" : s[i];
      i++;
      continue;
    }
    let j = i;
    while (j < s.length && !(s.charCodeAt(j) >= 0x20 && s.charCodeAt(j) <= 0x7e)) j++;
    const units = Buffer.alloc((j - i) * 2);
    for (let k = i; k < j; k++) units.writeUInt16BE(s.charCodeAt(k), (k - i) * 2);
    out += "&" + units.toString("base64").replace(/=+$/, "").replace(/\//g, ",") + "-";
    i = j;
  }
  return out;
}

/** Decodes modified UTF-7; null when malformed. */
export function decodeMutf7(s: string): string | null {
  let out = "";
  for (let i = 0; i < s.length; ) {
    const c = s[i]!;
    if (c.charCodeAt(0) > 0x7e) return null;
    if (c !== "&") {
      out += c;
      i++;
      continue;
    }
    const end = s.indexOf("-", i);
    if (end < 0) return null;
    if (end === i + 1) {
      out += "&";
      i = end + 1;
      continue;
    }
    const b64 = s.slice(i + 1, end);
    if (!/^[A-Za-z0-9+,]+$/.test(b64)) return null;
    const buf = Buffer.from(b64.replace(/,/g, "/"), "base64");
    if (buf.length % 2) return null;
    for (let k = 0; k < buf.length; k += 2) out += String.fromCharCode(buf.readUInt16BE(k));
    i = end + 1;
  }
  return out;
}
