// Transport security a domain publishes (served and printed here because `kotakpos dns`
// lives in this plugin): the MTA-STS policy (RFC 8461 §3.2) at
// https://mta-sts.<domain>/.well-known/mta-sts.txt with its `_mta-sts` id, the TLS-RPT
// record (RFC 8460 §3), and the TLSA 3 1 1 record of the host name's key (RFC 7672 §3.1).
import { createHash, X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import { and, desc, eq } from "drizzle-orm";
import type { Config } from "../../core/config.ts";
import type { Db } from "../../core/db/open.ts";
import { certificates } from "../../core/db/schema.ts";

/** A week: long enough to ride out an outage of the policy host, short enough to change. */
export const MTA_STS_MAX_AGE = 604_800;

export function mtaStsPolicy(mode: "testing" | "enforce" | "none", hostname: string): string {
  return `version: STSv1\r\nmode: ${mode}\r\nmx: ${hostname.toLowerCase()}\r\nmax_age: ${MTA_STS_MAX_AGE}\r\n`;
}

/** §3.1: the id changes whenever the policy does (here: a hash of it). */
export function mtaStsId(policy: string): string {
  return createHash("sha256").update(policy).digest("hex").slice(0, 20);
}

/** SHA-256 of the SubjectPublicKeyInfo of a certificate: TLSA 3 1 1 data. */
export function spkiSha256(certPem: string): string {
  const spki = new X509Certificate(certPem).publicKey.export({ type: "spki", format: "der" });
  return createHash("sha256").update(spki).digest("hex");
}

/** The certificate the server presents for its host name: ACME's, else tls.certFile, else
 *  the self-signed one (its key is kept, so the TLSA record stays valid either way). */
export async function hostCertificate(db: Db, config: Config): Promise<string | undefined> {
  const host = config.hostname.toLowerCase();
  const acme = await db.orm
    .select()
    .from(certificates)
    .where(and(eq(certificates.issuer, "acme"), eq(certificates.names, JSON.stringify([host]))))
    .orderBy(desc(certificates.createdAt))
    .limit(1);
  if (acme[0]) return acme[0].certPem;
  if (config.tls.certFile) return readFileSync(config.tls.certFile, "utf8");
  const own = await db.orm.select().from(certificates).where(eq(certificates.issuer, "self-signed")).orderBy(desc(certificates.createdAt));
  return own.find((r) => (JSON.parse(r.names) as string[]).includes(host))?.certPem;
}
