// Mailbox names: modified UTF-7 for IMAP4rev1 clients (RFC 3501 §5.1.3), UTF-8 for
// IMAP4rev2 / UTF8=ACCEPT (RFC 9051 §5.1, RFC 6855); LIST patterns (RFC 9051 §6.3.9).
export const DELIM = "/";

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

/** Canonical form of a name the client sent: "INBOX" in any case is INBOX (§5.1). */
export function canonicalName(name: string): string {
  if (name.toUpperCase() === "INBOX") return "INBOX";
  if (name.toUpperCase().startsWith("INBOX" + DELIM)) return "INBOX" + name.slice(5);
  return name;
}

/** Rejects names the store must never see: empty levels, wildcards, control characters. */
export function validName(name: string): boolean {
  if (name.length === 0 || Buffer.byteLength(name) > 512) return false;
  if (/[\x00-\x1f\x7f*%]/.test(name)) return false;
  return name.split(DELIM).every((p) => p.length > 0);
}

/** RFC 9051 §6.3.9: "*" matches anything, "%" anything but the delimiter. */
export function patternToRegExp(pattern: string): RegExp {
  let re = "^";
  for (const ch of pattern) {
    if (ch === "*") re += ".*";
    else if (ch === "%") re += "[^/]*";
    else re += ch.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  }
  // INBOX is case-insensitive: match the pattern's INBOX prefix in any case.
  return new RegExp(re + "$", "s");
}

export function matchPattern(name: string, re: RegExp, pattern: string): boolean {
  if (re.test(name)) return true;
  if (name === "INBOX" || name.startsWith("INBOX/")) {
    const up = pattern.toUpperCase();
    if (up.startsWith("INBOX")) return patternToRegExp("INBOX" + pattern.slice(5)).test(name);
  }
  return false;
}
