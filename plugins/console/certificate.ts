// What the core's TLS exposes about the certificate for the host name (ACME, a configured
// file, or the self-signed one): for the dashboard, the wizard, the health check and the
// HTTP→HTTPS redirect (only once a real certificate exists).
import { X509Certificate } from "node:crypto";
import type { Core } from "../../core/types.ts";

export interface CertInfo {
  subject: string;
  issuer: string;
  notAfter: number;
  selfSigned: boolean;
  names: string[];
}

/** "Let's Encrypt (R11)", "Pebble Intermediate CA 0bbcc9": the issuer as people name it. */
export function issuerName(dn: string): string {
  const f = Object.fromEntries(dn.split("\n").map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]));
  if (f.O && f.CN) return `${f.O} (${f.CN})`;
  return f.O ?? f.CN ?? dn.replace(/\n/g, ", ");
}

export async function certificateInfo(core: Core): Promise<CertInfo | null> {
  try {
    const pem = await core.tls.certificateFor(core.config.hostname);
    const x = new X509Certificate(pem.cert);
    const names = (x.subjectAltName ?? "")
      .split(/,\s*/)
      .filter((n) => n.startsWith("DNS:"))
      .map((n) => n.slice(4));
    return { subject: x.subject.replace(/\n/g, ", "), issuer: issuerName(x.issuer), notAfter: Date.parse(x.validTo), selfSigned: x.subject === x.issuer, names };
  } catch {
    return null;
  }
}
