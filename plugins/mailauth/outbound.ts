// Headers for a message leaving for a remote MX: DKIM signatures for the local domains of
// the From header and of the envelope sender (RSA and Ed25519 each), and an ARC set
// (RFC 8617 §5.1) when we forward mail that we received and authenticated ourselves.
import { domainToUnicode } from "node:url";
import type { OutgoingMessage } from "../../core/types.ts";
import { dkimSign, type SigningKey } from "./dkim-sign.ts";
import { authservId } from "./forged.ts";
import { fieldValue, fromDomain, parseRawHeader, type RawField } from "./header.ts";
import type { KeyCache } from "./keys.ts";

export interface SignDeps {
  keys: KeyCache;
  isLocal(domain: string): Promise<boolean>;
  /** Our authserv-id: an Authentication-Results field with it means we received the message. */
  hostname: string;
  arcSeal: boolean;
}

/** Lower-case U-label form, as local domains (and their keys) are stored. */
const unicode = (d: string) => domainToUnicode(d.toLowerCase().replace(/\.$/, "")) || d.toLowerCase();
const domainOf = (addr: string) => (addr.includes("@") ? unicode(addr.slice(addr.lastIndexOf("@") + 1)) : "");

/** Our own Authentication-Results (the newest one, on top), if the message came in through us. */
function ourResults(fields: RawField[], hostname: string): string | null {
  const id = hostname.toLowerCase();
  const f = fields.find((x) => x.name === "authentication-results" && authservId(fieldValue(x)).toLowerCase() === id);
  return f ? fieldValue(f) : null;
}

/** Did this message reach us from outside, unauthenticated? Our own Received field is the
 *  topmost one (the per-message prefix); its with-protocol (RFC 3848) has an "A" when a user
 *  authenticated. Mail we made ourselves (bounces) has none. */
export function receivedFromOutside(fields: RawField[], hostname: string): boolean {
  const r = fields.find((f) => f.name === "received");
  if (!r) return false;
  const m = /\bby\s+(\S+)\s+\(kotakpos\)\s+with\s+(\S+)/i.exec(fieldValue(r));
  return !!m && m[1]!.toLowerCase() === hostname.toLowerCase() && !/A$/i.test(m[2]!);
}

export async function signOutgoing(msg: OutgoingMessage, deps: SignDeps): Promise<string[]> {
  const { fields } = parseRawHeader(msg.raw);
  const fromD = unicode(fromDomain(fields) ?? msg.fromDomain ?? "");
  const envD = domainOf(msg.mailFrom);
  // A signature of the From domain says "this author is ours": only for mail a user
  // submitted (its From was checked against smtp.sendas) or that we made. Mail from outside
  // that we forward is never signed for its From domain, even when that domain is ours.
  const outside = receivedFromOutside(fields, deps.hostname);
  const candidates = [...new Set([fromD, envD].filter((d): d is string => !!d && !(outside && d === fromD)))];
  const local: string[] = [];
  for (const d of candidates) if (await deps.isLocal(d)) local.push(d);
  const perDomain = await Promise.all(local.map((d) => deps.keys.signingKeys(d)));
  const keys: SigningKey[] = perDomain.flat();
  const out: string[] = [];

  // ARC (RFC 8617 §5.1): mail we authenticated on the way in (our A-R on it) and now relay
  // to a remote address is being forwarded; the From domain is someone else's.
  const ar = deps.arcSeal && fromD && !local.includes(fromD) ? ourResults(fields, deps.hostname) : null;
  const sealer = envD && local.includes(envD) ? perDomain[local.indexOf(envD)]!.find((k) => k.algorithm === "rsa-sha256") : undefined;
  if (ar && sealer) {
    // The chain state we recorded on receipt (arc=none|pass|fail); a failed chain is not sealed.
    const cv = /(?:^|;)\s*arc=(\w+)/i.exec(ar)?.[1]?.toLowerCase() ?? "none";
    if (cv === "none" || cv === "pass") {
      // mailauth (~30 MB resident) is loaded when a message is first sealed, not at start.
      const { sealMessage } = await import("mailauth");
      const seal = await sealMessage(Buffer.from(msg.raw.buffer, msg.raw.byteOffset, msg.raw.byteLength), {
        signingDomain: sealer.domain,
        selector: sealer.selector,
        privateKey: sealer.privateKey.export({ type: "pkcs8", format: "pem" }) as string,
        algorithm: "rsa-sha256",
        cv,
        authResults: ar,
      });
      const text = seal.toString("latin1");
      if (text)
        out.push(
          ...text
            .split(/\r\n(?![ \t])/)
            .filter(Boolean)
            .map((h) => h + "\r\n"),
        );
    }
  }
  out.push(...dkimSign(msg.raw, keys));
  return out;
}
