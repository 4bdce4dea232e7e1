// SASL PLAIN (RFC 4616) as POP3 AUTH carries it (RFC 5034): base64 of
// authzid NUL authcid NUL passwd.

export type PlainResult = { ok: true; authzid?: string; username: string; password: string } | { ok: false; error: string };

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** Strict base64 (RFC 4648 §4, padded): anything else is a client error, not a guess. */
export function decodeBase64Strict(s: string): Uint8Array | null {
  if (s.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(s)) return null;
  return Buffer.from(s, "base64");
}

export function decodePlain(b64: string): PlainResult {
  const raw = decodeBase64Strict(b64);
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
  return { ok: true, authzid: authzid === "" ? undefined : authzid, username, password };
}
