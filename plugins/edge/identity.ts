// The edge's link certificate: self-signed, made once (ten years), pinned by the pairing
// codes; kept apart from the public certificate so an ACME renewal never breaks a pairing.
import { eq } from "drizzle-orm";
import type { Db } from "../../core/db/open.ts";
import { type Pem, selfSignedCertificate } from "../../core/self-signed.ts";
import { edgeIdentity } from "./schema.ts";

export type { Pem };

export async function linkIdentity(db: Db, hostname: string, create: boolean): Promise<Pem | null> {
  const row = (await db.orm.select().from(edgeIdentity).where(eq(edgeIdentity.id, 1)))[0];
  if (row) return { key: row.keyPem, cert: row.certPem };
  if (!create) return null;
  const pems = selfSignedCertificate({ hostname, notAfter: new Date(Date.now() + 10 * 365 * 86_400_000) });
  await db.write((tx) => tx.orm.insert(edgeIdentity).values({ id: 1, keyPem: pems.key, certPem: pems.cert, createdAt: Date.now() }).onConflictDoNothing());
  return linkIdentity(db, hostname, false);
}
