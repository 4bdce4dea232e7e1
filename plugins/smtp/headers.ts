// Header lines we add on receipt (kept as the per-message prefix, DESIGN.md): the trace
// field Received (RFC 5321 §4.4, protocol names RFC 3848 / RFC 6531 §3.7.3) and, on
// submission, Message-ID and Date when missing (RFC 5322 §3.6, RFC 6409 §8).
import type { TlsInfo } from "../../core/types.ts";

const DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const pad = (n: number) => (n < 10 ? `0${n}` : String(n));

/** RFC 5322 §3.3 date-time in UTC: "Sun, 22 Nov 2026 02:40:46 +0000". */
export function rfc5322Date(d = new Date()): string {
  return `${DAYS[d.getUTCDay()]}, ${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} +0000`;
}

/** RFC 3848 with-protocol: ESMTP + S (TLS) + A (authenticated); UTF8SMTP* when the
 *  transaction used SMTPUTF8 (RFC 6531 §3.7.3); plain SMTP after HELO. */
export function withProtocol(o: { esmtp: boolean; tls: boolean; auth: boolean; utf8: boolean }): string {
  if (!o.esmtp) return "SMTP";
  return `${o.utf8 ? "UTF8SMTP" : "ESMTP"}${o.tls ? "S" : ""}${o.auth ? "A" : ""}`;
}

/** "[192.0.2.1]" or "[IPv6:2001:db8::1]" (RFC 5321 §4.1.3). */
export function addressLiteral(ip: string): string {
  const v4 = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (v4) return `[${v4[1]}]`;
  return ip.includes(":") ? `[IPv6:${ip}]` : `[${ip}]`;
}

/** Keep a peer-supplied word (HELO name) harmless inside a header comment. */
function clean(s: string, max = 200): string {
  return s.replace(/[^\x21-\x7e]|[()\\]/g, "?").slice(0, max);
}

export interface ReceivedInfo {
  helo: string;
  remoteAddress: string;
  hostname: string;
  protocol: string;
  id: string;
  tls?: TlsInfo;
  /** The single recipient (RFC 5321 §4.4 "for"); omitted for several (privacy). */
  for?: string;
  date?: Date;
}

export function receivedHeader(r: ReceivedInfo): string {
  let h = `Received: from ${clean(r.helo) || "unknown"} (${addressLiteral(r.remoteAddress)})\r\n\tby ${r.hostname} (kotakpos) with ${r.protocol} id ${r.id}`;
  if (r.tls) h += `\r\n\t(using ${clean(r.tls.protocol, 40)} with cipher ${clean(r.tls.cipher, 80)})`;
  if (r.for) h += `\r\n\tfor <${r.for}>`;
  return `${h};\r\n\t${rfc5322Date(r.date)}\r\n`;
}

/** RFC 5321 §4.4: the final delivery records the reverse-path ("<>" for bounces). */
export function returnPathHeader(mailFrom: string): string {
  return `Return-Path: <${mailFrom.replace(/[\r\n]/g, "")}>\r\n`;
}

export function messageIdHeader(hostname: string): string {
  const rnd = Buffer.from(crypto.getRandomValues(new Uint8Array(9))).toString("base64url");
  return `Message-ID: <${Date.now().toString(36)}.${rnd}@${hostname}>\r\n`;
}

export function dateHeader(d = new Date()): string {
  return `Date: ${rfc5322Date(d)}\r\n`;
}

export interface HeaderField {
  name: string; // lower-case
  value: string; // unfolded
}

/** The header section of a message (RFC 5322 §2.2), unfolded, names lower-cased. Lines
 *  that are not fields end the section (a broken message has just a body then). */
export function parseHeaders(raw: Uint8Array, maxFields = 1000): HeaderField[] {
  const b = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
  let end = b.indexOf("\r\n\r\n");
  end = end < 0 ? b.length : end + 2;
  if (b.subarray(0, 2).toString("latin1") === "\r\n") end = 0;
  const text = b.toString("utf8", 0, end);
  const out: HeaderField[] = [];
  for (const line of text.split("\r\n")) {
    if (line === "") continue;
    if ((line[0] === " " || line[0] === "\t") && out.length > 0) {
      out[out.length - 1]!.value += line;
      continue;
    }
    const colon = line.indexOf(":");
    if (colon <= 0 || !/^[\x21-\x39\x3b-\x7e]+$/.test(line.slice(0, colon).trimEnd())) break;
    if (out.length >= maxFields) break;
    out.push({ name: line.slice(0, colon).trimEnd().toLowerCase(), value: line.slice(colon + 1).trim() });
  }
  return out;
}
