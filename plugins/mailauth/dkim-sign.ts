// DKIM signing (RFC 6376 §5) with rsa-sha256 and ed25519-sha256 (RFC 8463), relaxed/relaxed.
// Written here rather than with mailauth's signer because that one cannot oversign: key
// header fields are listed once more than they occur (§5.4.2, §8.15), so a field added
// in transit (a second From, a Subject) breaks the signature instead of riding along.
import { createHash, sign as cryptoSign, type KeyObject } from "node:crypto";
import { relaxedBodyHash, relaxedHeader } from "./canon.ts";
import { parseRawHeader, type RawField } from "./header.ts";

export type DkimAlgorithm = "rsa-sha256" | "ed25519-sha256";

export interface SigningKey {
  domain: string;
  selector: string;
  algorithm: DkimAlgorithm;
  privateKey: KeyObject;
}

/** Signed and oversigned: a second instance of these would change what a reader sees. */
export const OVERSIGNED = ["from", "sender", "reply-to", "subject", "date", "message-id", "to", "cc", "in-reply-to", "references", "mime-version", "content-type", "content-transfer-encoding"];
/** Signed when present (each instance), not oversigned: lists and resenders may add them. */
export const SIGNED = [
  "content-id",
  "content-description",
  "resent-date",
  "resent-from",
  "resent-sender",
  "resent-to",
  "resent-cc",
  "resent-message-id",
  "list-id",
  "list-help",
  "list-unsubscribe",
  "list-unsubscribe-post",
  "list-subscribe",
  "list-post",
  "list-owner",
  "list-archive",
  "autocrypt",
  "openpgp",
];

/** The h= list: every present instance, plus one more for oversigned names (§5.4.2). */
export function headerList(fields: RawField[]): string[] {
  const count = new Map<string, number>();
  for (const f of fields) count.set(f.name, (count.get(f.name) ?? 0) + 1);
  const h: string[] = [];
  for (const name of OVERSIGNED) for (let i = 0; i < (count.get(name) ?? 0) + 1; i++) h.push(name);
  for (const name of SIGNED) for (let i = 0; i < (count.get(name) ?? 0); i++) h.push(name);
  return h;
}

/** §5.4.2: the n-th reference to a name takes the n-th instance from the bottom; a
 *  reference past the last instance contributes nothing (the oversigning "null"). */
function selectFields(fields: RawField[], h: string[]): RawField[] {
  const used = new Map<string, number>();
  const out: RawField[] = [];
  for (const name of h) {
    const k = used.get(name) ?? 0;
    used.set(name, k + 1);
    let seen = 0;
    for (let i = fields.length - 1; i >= 0; i--) {
      if (fields[i]!.name !== name) continue;
      if (seen++ === k) {
        out.push(fields[i]!);
        break;
      }
    }
  }
  return out;
}

/** Fold tag=value pairs into lines of at most ~76 chars (FWS is ignored by verifiers, §3.2). */
function fold(prefix: string, tags: string[]): string {
  const lines: string[] = [];
  let line = prefix;
  const push = (piece: string, sep: string) => {
    if (line.length + sep.length + piece.length > 76 && line.trim().length > 0) {
      lines.push(line);
      line = "\t" + piece;
    } else line += sep + piece;
  };
  tags.forEach((t, i) => {
    const sep = i === 0 ? " " : " ";
    if (t.startsWith("h=")) {
      // Break the field list after colons.
      const parts = t.split(":");
      parts.forEach((p, j) => push(p + (j < parts.length - 1 ? ":" : ""), j === 0 ? sep : ""));
    } else if (t.startsWith("b=") && t.length > 60) {
      for (let j = 0; j < t.length; j += 64) push(t.slice(j, j + 64), j === 0 ? sep : "");
    } else push(t, sep);
  });
  lines.push(line);
  return lines.join("\r\n");
}

export interface SignOptions {
  /** Signature timestamp in seconds (t=); now by default. */
  time?: number;
}

/** DKIM-Signature fields (each CRLF-terminated), one per key, to put above the message. */
export function dkimSign(msg: Uint8Array, keys: SigningKey[], opts: SignOptions = {}): string[] {
  const { fields, bodyStart } = parseRawHeader(msg);
  if (!fields.some((f) => f.name === "from")) return []; // §5.4: From must be signed
  const h = headerList(fields);
  const signed = selectFields(fields, h).map((f) => relaxedHeader(f.raw) + "\r\n");
  const bh = relaxedBodyHash(msg, bodyStart);
  const t = opts.time ?? Math.floor(Date.now() / 1000);
  return keys.map((k) => {
    const tags = [`v=1;`, `a=${k.algorithm};`, `c=relaxed/relaxed;`, `d=${k.domain};`, `s=${k.selector};`, `t=${t};`, `h=${h.join(":")};`, `bh=${bh};`];
    const unsigned = fold("DKIM-Signature:", [...tags, "b="]);
    // §3.7: the signature field itself, b= empty, relaxed, without its trailing CRLF.
    const data = signed.join("") + relaxedHeader(unsigned);
    const b =
      k.algorithm === "rsa-sha256"
        ? cryptoSign("sha256", Buffer.from(data, "latin1"), k.privateKey)
        : // RFC 8463 §3: Ed25519 (PureEdDSA) over the SHA-256 hash of the data.
          cryptoSign(null, createHash("sha256").update(data, "latin1").digest(), k.privateKey);
    return fold("DKIM-Signature:", [...tags, `b=${b.toString("base64")}`]) + "\r\n";
  });
}
