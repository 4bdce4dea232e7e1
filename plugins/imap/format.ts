// Response formatting: strings (RFC 9051 §4.3), dates (§9 date-time), ENVELOPE and
// BODYSTRUCTURE (§7.5.2) built from the structure stored at delivery (core/mime/types.ts).
import type { Envelope, EnvelopeAddress, MimePart } from "../../core/mime/types.ts";

/** A string as IMAP quoted string when it can be one, else a literal {n}. Non-ASCII goes
 *  quoted only when the client accepts UTF-8 (RFC 6855 / IMAP4rev2). */
const PLAIN = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

export function str(s: string, utf8 = false): string {
  if (s.length < 4096 && PLAIN.test(s)) return `"${s}"`;
  let ok = s.length < 4096;
  for (let i = 0; ok && i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0 || c === 0x0d || c === 0x0a || (c > 0x7e && !utf8)) ok = false;
  }
  if (ok) return `"${s.replace(/[\\"]/g, (m) => "\\" + m)}"`;
  return `{${Buffer.byteLength(s, "utf8")}}\r\n${s}`;
}

export function nstr(s: string | null | undefined, utf8 = false): string {
  return s == null ? "NIL" : str(s, utf8);
}

/** astring: a bare atom when it is one, else a string. */
export function astr(s: string, utf8 = false): string {
  if (s.length > 0 && s.length < 1024 && /^[!#$&'+,\-./0-9:;<=>?@A-Z\[^_`a-z|}~]+$/.test(s) && s.toUpperCase() !== "NIL") return s;
  return str(s, utf8);
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const pad = (n: number, w = 2) => String(n).padStart(w, "0");

/** RFC 9051 §9 date-time: "dd-Mon-yyyy hh:mm:ss +zzzz" (we keep dates in UTC). */
export function imapDateTime(ms: number): string {
  const d = new Date(ms);
  return `"${pad(d.getUTCDate())}-${MONTHS[d.getUTCMonth()]}-${d.getUTCFullYear()} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} +0000"`;
}

/** Parses date-time (APPEND) → ms, or null. Day may be " d" or "d". */
export function parseDateTime(s: string): number | null {
  const m = /^ ?(\d{1,2})-([A-Za-z]{3})-(\d{4}) (\d{2}):(\d{2}):(\d{2}) ([+-])(\d{2})(\d{2})$/.exec(s);
  if (!m) return null;
  const mon = MONTHS.findIndex((x) => x.toLowerCase() === m[2]!.toLowerCase());
  if (mon < 0) return null;
  const [day, year, hh, mm, ss] = [m[1], m[3], m[4], m[5], m[6]].map(Number) as [number, number, number, number, number];
  if (day < 1 || day > 31 || hh > 23 || mm > 59 || ss > 60) return null;
  const off = (Number(m[8]) * 60 + Number(m[9])) * (m[7] === "-" ? -1 : 1);
  return Date.UTC(year, mon, day, hh, mm, ss) - off * 60_000;
}

/** SEARCH date (RFC 9051 §9 date): "d-Mon-yyyy" → UTC midnight ms, or null. */
export function parseDate(s: string): number | null {
  const m = /^(\d{1,2})-([A-Za-z]{3})-(\d{4})$/.exec(s);
  if (!m) return null;
  const mon = MONTHS.findIndex((x) => x.toLowerCase() === m[2]!.toLowerCase());
  const day = Number(m[1]);
  if (mon < 0 || day < 1 || day > 31) return null;
  return Date.UTC(Number(m[3]), mon, day);
}

function addressList(list: EnvelopeAddress[] | null, utf8: boolean): string {
  if (!list || list.length === 0) return "NIL";
  return "(" + list.map((a) => `(${nstr(a.name, utf8)} NIL ${nstr(a.mailbox, utf8)} ${nstr(a.host, utf8)})`).join("") + ")";
}

/** RFC 9051 §7.5.2 ENVELOPE; Sender and Reply-To default to From. */
export function formatEnvelope(e: Envelope, utf8 = false): string {
  const from = e.from && e.from.length ? e.from : null;
  return (
    "(" +
    [
      nstr(e.date, utf8),
      nstr(e.subject, utf8),
      addressList(from, utf8),
      addressList(e.sender && e.sender.length ? e.sender : from, utf8),
      addressList(e.replyTo && e.replyTo.length ? e.replyTo : from, utf8),
      addressList(e.to, utf8),
      addressList(e.cc, utf8),
      addressList(e.bcc, utf8),
      nstr(e.inReplyTo, utf8),
      nstr(e.messageId, utf8),
    ].join(" ") +
    ")"
  );
}

function params(p: Record<string, string>, utf8: boolean): string {
  const keys = Object.keys(p);
  if (keys.length === 0) return "NIL";
  return "(" + keys.map((k) => `${str(k, utf8)} ${str(p[k]!, utf8)}`).join(" ") + ")";
}

function disposition(d: MimePart["disposition"], utf8: boolean): string {
  if (!d) return "NIL";
  return `(${str(d.type, utf8)} ${params(d.params, utf8)})`;
}

function language(l: string[] | null, utf8: boolean): string {
  if (!l || l.length === 0) return "NIL";
  if (l.length === 1) return str(l[0]!, utf8);
  return "(" + l.map((x) => str(x, utf8)).join(" ") + ")";
}

function isMessage(p: MimePart): boolean {
  return p.type === "message" && (p.subtype === "rfc822" || p.subtype === "global") && !!p.message;
}

/** RFC 9051 §7.5.2 BODYSTRUCTURE (extensible = true) or BODY (extensible = false). */
export function formatBodyStructure(p: MimePart, extensible: boolean, utf8 = false): string {
  if (p.parts && p.parts.length > 0) {
    let out = "(" + p.parts.map((c) => formatBodyStructure(c, extensible, utf8)).join("") + " " + str(p.subtype.toUpperCase(), utf8);
    if (extensible) out += ` ${params(p.params, utf8)} ${disposition(p.disposition, utf8)} ${language(p.language, utf8)} ${nstr(p.location, utf8)}`;
    return out + ")";
  }
  const size = Math.max(0, p.end - p.bodyStart);
  let out =
    `(${str(p.type.toUpperCase(), utf8)} ${str(p.subtype.toUpperCase(), utf8)} ${params(p.params, utf8)} ` +
    `${nstr(p.id, utf8)} ${nstr(p.description, utf8)} ${str(p.encoding.toUpperCase(), utf8)} ${size}`;
  if (isMessage(p)) {
    out += ` ${formatEnvelope(p.message!.envelope, utf8)} ${formatBodyStructure(p.message!.body, extensible, utf8)} ${p.lines}`;
  } else if (p.type === "text") {
    out += ` ${p.lines}`;
  }
  if (extensible) out += ` ${nstr(p.md5, utf8)} ${disposition(p.disposition, utf8)} ${language(p.language, utf8)} ${nstr(p.location, utf8)}`;
  return out + ")";
}

/** Flag list "(\Seen $Forwarded)". */
export function flagList(flags: readonly string[]): string {
  return "(" + flags.join(" ") + ")";
}
export { formatSet, formatSetInOrder } from "./sequence.ts";
