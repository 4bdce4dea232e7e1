// Small helpers: random tokens, sha-256 hex, constant-time comparison.
import { createHash, timingSafeEqual } from "node:crypto";

export const randomToken = (bytes = 32): string => Buffer.from(crypto.getRandomValues(new Uint8Array(bytes))).toString("base64url");
export const sha256 = (s: string): string => createHash("sha256").update(s).digest("hex");

export function sameString(a: string | undefined, b: string | undefined): boolean {
  if (a === undefined || b === undefined) return false;
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
