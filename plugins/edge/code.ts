// The pairing code `kotakpos edge add` prints: the home domain, a one-time secret and the
// SHA-256 of the edge's link certificate, so the home verifies the edge without any CA.
// "kp1-" + base64url(version 1 | 32-byte secret | 32-byte fingerprint | domain).
import { createHash, randomBytes, X509Certificate } from "node:crypto";

export interface PairingCode {
  domain: string;
  /** base64url, 32 random bytes. */
  secret: string;
  /** Lower-case hex SHA-256 of the certificate's DER. */
  fingerprint: string;
}

const PREFIX = "kp1-";

export function encodeCode(c: PairingCode): string {
  const body = Buffer.concat([Buffer.from([1]), Buffer.from(c.secret, "base64url"), Buffer.from(c.fingerprint, "hex"), Buffer.from(c.domain, "utf8")]);
  return PREFIX + body.toString("base64url");
}

/** The code's parts, or null when it is not a pairing code (mistyped, cut short). */
export function decodeCode(code: string): PairingCode | null {
  const s = code.trim();
  if (!s.startsWith(PREFIX) || !/^[A-Za-z0-9_-]+$/.test(s.slice(PREFIX.length))) return null;
  const b = Buffer.from(s.slice(PREFIX.length), "base64url");
  if (b.length < 66 || b[0] !== 1) return null;
  const domain = b.subarray(65).toString("utf8");
  if (!/^[a-z0-9.-]+\.[a-z0-9-]+$/i.test(domain)) return null;
  return { secret: b.subarray(1, 33).toString("base64url"), fingerprint: b.subarray(33, 65).toString("hex"), domain: domain.toLowerCase() };
}

export const newSecret = (): string => randomBytes(32).toString("base64url");
export const hashSecret = (s: string): string => createHash("sha256").update(s).digest("hex");

/** SHA-256 of a PEM certificate's DER, lower-case hex (what the code carries). */
export function certFingerprint(pem: string): string {
  return new X509Certificate(pem).fingerprint256.replace(/:/g, "").toLowerCase();
}
