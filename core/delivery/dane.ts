// DANE for SMTP (RFC 7672, RFC 6698 §2.1): does the server's certificate chain match one
// of the MX host's TLSA records? Only DANE-TA(2) and DANE-EE(3) are used for SMTP (§3.1).
import { createHash, X509Certificate } from "node:crypto";

export interface TlsaRecord {
  usage: number; // 2 DANE-TA, 3 DANE-EE
  selector: number; // 0 full certificate, 1 SubjectPublicKeyInfo
  mtype: number; // 0 exact, 1 SHA-256, 2 SHA-512
  data: string; // hex
}

function selected(der: Buffer, selector: number): Buffer {
  return selector === 0 ? der : (new X509Certificate(der).publicKey.export({ type: "spki", format: "der" }) as Buffer);
}

function digest(b: Buffer, mtype: number): string | undefined {
  if (mtype === 0) return b.toString("hex");
  if (mtype === 1) return createHash("sha256").update(b).digest("hex");
  if (mtype === 2) return createHash("sha512").update(b).digest("hex");
  return undefined;
}

/** The usage of the first record the chain (DER, leaf first) matches; undefined: none.
 *  DANE-EE pins the leaf (names and dates do not matter, §3.1.1); DANE-TA pins an issuer
 *  in the chain, the caller still checks the host name (§3.1.2). */
export function daneMatch(records: TlsaRecord[], chain: Buffer[]): number | undefined {
  for (const r of records) {
    const certs = r.usage === 3 ? chain.slice(0, 1) : r.usage === 2 ? chain.slice(1) : [];
    for (const c of certs) {
      try {
        if (digest(selected(c, r.selector), r.mtype) === r.data.toLowerCase()) return r.usage;
      } catch {
        // A certificate we cannot parse matches nothing.
      }
    }
  }
  return undefined;
}
