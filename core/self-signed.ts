// A self-signed ECDSA P-256 certificate, made with the runtime's own crypto and a few lines
// of DER (RFC 5280 §4.1). The libraries that do this (selfsigned/node-forge,
// @peculiar/x509) cost 25–30 MiB of resident memory to load, which a server keeps for its
// whole life after the first start; native key generation costs ~5 MiB.
import { generateKeyPairSync, randomBytes, sign } from "node:crypto";
import { isIP } from "node:net";

export interface SelfSignedOptions {
  /** The subject's common name and its one subjectAltName (a DNS name or an IP address). */
  hostname: string;
  notBefore?: Date;
  notAfter: Date;
}

export interface Pem {
  key: string;
  cert: string;
}

// --- DER (X.690 §8): definite lengths only, as DER requires -------------------------------

function tlv(tag: number, body: Uint8Array): Buffer {
  const n = body.length;
  let len: number[];
  if (n < 0x80) len = [n];
  else {
    const bytes: number[] = [];
    for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
    len = [0x80 | bytes.length, ...bytes];
  }
  return Buffer.concat([Buffer.from([tag, ...len]), body]);
}
const seq = (...items: Uint8Array[]): Buffer => tlv(0x30, Buffer.concat(items));
const set = (...items: Uint8Array[]): Buffer => tlv(0x31, Buffer.concat(items));
const explicit = (n: number, inner: Uint8Array): Buffer => tlv(0xa0 | n, inner);
const octets = (b: Uint8Array): Buffer => tlv(0x04, b);
const bitString = (b: Uint8Array, unusedBits = 0): Buffer => tlv(0x03, Buffer.concat([Buffer.from([unusedBits]), b]));
const boolTrue = Buffer.from([0x01, 0x01, 0xff]);

/** A non-negative INTEGER from big-endian bytes (a leading 0 keeps it positive). */
function uint(b: Uint8Array): Buffer {
  let i = 0;
  while (i < b.length - 1 && b[i] === 0) i++;
  const v = b.subarray(i);
  return tlv(0x02, v[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), v]) : v);
}

function oid(dotted: string): Buffer {
  const parts = dotted.split(".").map(Number);
  const out: number[] = [40 * parts[0]! + parts[1]!];
  for (const p of parts.slice(2)) {
    const b: number[] = [p & 0x7f];
    for (let v = Math.floor(p / 128); v > 0; v = Math.floor(v / 128)) b.unshift(0x80 | (v & 0x7f));
    out.push(...b);
  }
  return tlv(0x06, Buffer.from(out));
}

/** RFC 5280 §4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050. */
function time(d: Date): Buffer {
  const iso = d.toISOString().replace(/[-:T]/g, "").slice(0, 14); // YYYYMMDDHHMMSS
  const year = d.getUTCFullYear();
  return year < 2050 ? tlv(0x17, Buffer.from(`${iso.slice(2)}Z`)) : tlv(0x18, Buffer.from(`${iso}Z`));
}

/** The IP address's octets for an iPAddress subjectAltName (RFC 5280 §4.2.1.6). */
function ipBytes(ip: string): Buffer {
  if (isIP(ip) === 4) return Buffer.from(ip.split(".").map(Number));
  const [head, tail] = ip.includes("::") ? ip.split("::") : [ip, undefined];
  // A dotted IPv4 tail (::ffff:192.0.2.1) is two 16-bit words.
  const words = (s: string | undefined): string[] =>
    (s ? s.split(":") : []).flatMap((w) => {
      if (!w.includes(".")) return [w];
      const [a, b, c, d] = w.split(".").map(Number) as [number, number, number, number];
      return [((a << 8) | b).toString(16), ((c << 8) | d).toString(16)];
    });
  const h = words(head);
  const t = words(tail);
  const all = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill("0"), ...t];
  const out = Buffer.alloc(16);
  all.forEach((w, i) => out.writeUInt16BE(Number.parseInt(w, 16), i * 2));
  return out;
}

const ECDSA_SHA256 = seq(oid("1.2.840.10045.4.3.2"));

function ext(id: string, critical: boolean, value: Uint8Array): Buffer {
  return critical ? seq(oid(id), boolTrue, octets(value)) : seq(oid(id), octets(value));
}

/** A new key and its self-signed certificate, both PEM. */
export function selfSignedCertificate(o: SelfSignedOptions): Pem {
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
  const name = seq(set(seq(oid("2.5.4.3"), tlv(0x0c, Buffer.from(o.hostname, "utf8")))));
  const altName = isIP(o.hostname) ? tlv(0x87, ipBytes(o.hostname)) : tlv(0x82, Buffer.from(o.hostname, "ascii"));
  const serial = randomBytes(16);
  serial[0]! &= 0x7f; // RFC 5280 §4.1.2.2: positive, at most 20 octets
  const tbs = seq(
    explicit(0, uint(Buffer.from([2]))), // v3
    uint(serial),
    ECDSA_SHA256,
    name,
    seq(time(o.notBefore ?? new Date(Date.now() - 60_000)), time(o.notAfter)),
    name,
    publicKey.export({ type: "spki", format: "der" }),
    explicit(
      3,
      seq(
        ext("2.5.29.19", true, seq()), // basicConstraints: not a CA
        ext("2.5.29.15", true, bitString(Buffer.from([0x80]), 7)), // keyUsage: digitalSignature
        ext("2.5.29.37", false, seq(oid("1.3.6.1.5.5.7.3.1"))), // extKeyUsage: serverAuth
        ext("2.5.29.17", false, seq(altName)), // subjectAltName
      ),
    ),
  );
  const cert = seq(tbs, ECDSA_SHA256, bitString(sign("sha256", tbs, privateKey)));
  const b64 = cert.toString("base64").replace(/.{64}/g, "$&\n").replace(/\n$/, "");
  return {
    key: privateKey.export({ type: "pkcs8", format: "pem" }) as string,
    cert: `-----BEGIN CERTIFICATE-----\n${b64}\n-----END CERTIFICATE-----\n`,
  };
}
