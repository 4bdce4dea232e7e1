// SASL pieces shared by SMTP AUTH (RFC 4954), IMAP AUTHENTICATE (RFC 9051 §6.2.2) and
// POP3 AUTH (RFC 5034): strict base64 responses and the PLAIN mechanism (RFC 4616).
import type { Credentials } from "./types.ts";

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** A client's base64 response; "=" is the empty response (RFC 4954 §4, RFC 4959 §3).
 *  Null when it is not strict, padded base64 (RFC 4648 §4): an error, not a guess. */
export function decodeSaslBase64(s: string): Uint8Array | null {
  if (s === "=") return new Uint8Array(0);
  if (s.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(s)) return null;
  return Buffer.from(s, "base64");
}

export type PlainResult = { ok: true; cred: Credentials } | { ok: false; error: string };

/** RFC 4616 §2: [authzid] NUL authcid NUL passwd, UTF-8, from a base64 response. */
export function decodePlain(b64: string): PlainResult {
  const raw = decodeSaslBase64(b64);
  if (!raw) return { ok: false, error: "Invalid base64 data" };
  const parts: Uint8Array[] = [];
  let start = 0;
  for (let i = 0; i <= raw.length; i++) {
    if (i === raw.length || raw[i] === 0) {
      parts.push(raw.subarray(start, i));
      start = i + 1;
    }
  }
  if (parts.length !== 3) return { ok: false, error: "Malformed PLAIN response" };
  let authzid: string, username: string, password: string;
  try {
    [authzid, username, password] = parts.map((p) => utf8.decode(p)) as [string, string, string];
  } catch {
    return { ok: false, error: "PLAIN response is not valid UTF-8" };
  }
  if (username === "" || password === "") return { ok: false, error: "Empty user name or password" };
  const cred: Credentials = { mechanism: "PLAIN", username, password };
  if (authzid !== "" && authzid !== username) cred.authzid = authzid;
  return { ok: true, cred };
}
