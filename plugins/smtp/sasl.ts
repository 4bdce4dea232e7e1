// SASL for SMTP AUTH (RFC 4954): base64 exchanges, PLAIN (RFC 4616) and LOGIN
// (draft-murchison-sasl-login). SCRAM is not offered.
import type { Credentials } from "../../core/types.ts";

export const MECHANISMS = ["PLAIN", "LOGIN"] as const;
export type Mechanism = (typeof MECHANISMS)[number];

/** RFC 4954 §4: "=" is an empty response; "*" cancels (handled by the caller).
 *  Null when the text is not strict base64. */
export function decodeBase64(s: string): Buffer | null {
  if (s === "=") return Buffer.alloc(0);
  if (s.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(s)) return null;
  return Buffer.from(s, "base64");
}

/** RFC 4616 §2: [authzid] NUL authcid NUL passwd. */
export function parsePlain(b: Buffer): Credentials | null {
  const parts = b.toString("utf8").split("\0");
  if (parts.length !== 3) return null;
  const [authzid, username, password] = parts as [string, string, string];
  if (username === "" || password === "") return null;
  const cred: Credentials = { mechanism: "PLAIN", username, password };
  if (authzid !== "" && authzid !== username) cred.authzid = authzid;
  return cred;
}

export const LOGIN_USERNAME = "VXNlcm5hbWU6"; // "Username:"
export const LOGIN_PASSWORD = "UGFzc3dvcmQ6"; // "Password:"
