// Sender Rewriting Scheme (Shevek's "SRS" paper, as in libsrs2 / postsrsd): when we
// forward to another domain, the envelope sender becomes an address of ours so SPF at the
// destination passes, and a bounce to it is reversed back to the original sender.
//
//   SRS0=HHHHHH=TT=orig-domain=orig-local@our-domain
//   SRS1=HHHHHH=first-forwarder==HHHHHH=TT=orig-domain=orig-local@our-domain
//
// HHHHHH: HMAC-SHA256 with our secret over the rest (lower-cased, so a bounce from an MTA
// that folded case still verifies), base32, 30 bits; TT: day number mod 1024, base32.
// Only we ever decode our addresses, so base32 (case-insensitive) replaces libsrs2's base64.
import { createHmac, timingSafeEqual } from "node:crypto";

const B32 = "abcdefghijklmnopqrstuvwxyz234567";
const HASH_LEN = 6;
const DAY_MS = 86_400_000;
/** Timestamps wrap after 1024 days (two base32 digits). */
const TS_WRAP = 1024;

export type SrsDecoded = { ok: true; address: string } | { ok: false; reason: "malformed" | "bad hash" | "expired" };

export interface SrsOptions {
  secret: string;
  /** Older timestamps are refused (libsrs2's default is 21). */
  maxAgeDays: number;
  /** Injectable clock (tests). */
  now?: () => number;
}

function b32(bytes: Uint8Array, chars: number): string {
  let out = "";
  let acc = 0;
  let bits = 0;
  for (const b of bytes) {
    acc = (acc << 8) | b;
    bits += 8;
    while (bits >= 5 && out.length < chars) {
      out += B32[(acc >>> (bits - 5)) & 31];
      bits -= 5;
    }
    if (out.length >= chars) break;
    acc &= (1 << bits) - 1;
  }
  return out;
}

function hash(secret: string, ...parts: string[]): string {
  const mac = createHmac("sha256", secret).update(parts.join("=").toLowerCase()).digest();
  return b32(mac, HASH_LEN);
}

function hashOk(secret: string, given: string, ...parts: string[]): boolean {
  const want = Buffer.from(hash(secret, ...parts));
  const got = Buffer.from(given.toLowerCase());
  return got.length === want.length && timingSafeEqual(got, want);
}

function today(now: number): number {
  return Math.floor(now / DAY_MS) % TS_WRAP;
}

function encodeTs(day: number): string {
  return B32[(day >> 5) & 31]! + B32[day & 31]!;
}

function decodeTs(ts: string): number | null {
  const t = ts.toLowerCase();
  if (t.length !== 2) return null;
  const hi = B32.indexOf(t[0]!);
  const lo = B32.indexOf(t[1]!);
  return hi < 0 || lo < 0 ? null : (hi << 5) | lo;
}

/** SRS1[sep]HASH=first-forwarder=[sep]opaque: the opaque part keeps its separator. */
const SRS1_RE = /^srs1[=+-]([^=]+)=([^=]+)=([=+-].+)$/i;

/** Does this local part look like an SRS address (ours or anybody's)? */
export function isSrsLocal(local: string): boolean {
  return /^srs[01][=+-]/i.test(local);
}

/** Rewrite `sender` (local@domain) as an address at `ourDomain`. A sender that is already
 *  an SRS address of another forwarder becomes SRS1 (so the bounce goes back one hop to
 *  the first forwarder, not through every hop). */
export function srsForward(sender: string, ourDomain: string, opts: SrsOptions): string {
  const at = sender.lastIndexOf("@");
  const local = sender.slice(0, at);
  const domain = sender.slice(at + 1);
  if (/^srs0[=+-]/i.test(local)) {
    const rest = local.slice(4); // keeps its leading separator: "SRS1=HH=fwd==HH=TT=…"
    return `SRS1=${hash(opts.secret, domain, rest)}=${domain}=${rest}@${ourDomain}`;
  }
  const m1 = SRS1_RE.exec(local);
  if (m1) {
    // Re-forwarding an SRS1 address: keep the first forwarder, re-sign for our domain.
    const [, , first, rest] = m1 as unknown as [string, string, string, string];
    return `SRS1=${hash(opts.secret, first, rest)}=${first}=${rest}@${ourDomain}`;
  }
  const ts = encodeTs(today(opts.now?.() ?? Date.now()));
  return `SRS0=${hash(opts.secret, ts, domain, local)}=${ts}=${domain}=${local}@${ourDomain}`;
}

/** Reverse the local part of an SRS address of ours: the address to return mail to. */
export function srsReverse(local: string, opts: SrsOptions): SrsDecoded {
  const m0 = /^srs0[=+-]([^=]+)=([^=]+)=([^=]+)=(.+)$/i.exec(local);
  if (m0) {
    const [, h, ts, domain, orig] = m0 as unknown as [string, string, string, string, string];
    const day = decodeTs(ts);
    if (day === null) return { ok: false, reason: "malformed" };
    if (!hashOk(opts.secret, h, ts, domain, orig)) return { ok: false, reason: "bad hash" };
    const age = (today(opts.now?.() ?? Date.now()) - day + TS_WRAP) % TS_WRAP;
    if (age > opts.maxAgeDays) return { ok: false, reason: "expired" };
    return { ok: true, address: `${orig}@${domain}` };
  }
  const m1 = SRS1_RE.exec(local);
  if (m1) {
    const [, h, first, rest] = m1 as unknown as [string, string, string, string];
    if (!hashOk(opts.secret, h, first, rest)) return { ok: false, reason: "bad hash" };
    // Back to the first forwarder's SRS0 address; it checks its own hash and age.
    return { ok: true, address: `SRS0${rest}@${first}` };
  }
  return { ok: false, reason: "malformed" };
}
