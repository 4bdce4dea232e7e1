// Certificates: the tls.certificate hook first (ACME plugins), then a configured PEM pair,
// then a self-signed certificate generated on first start and kept in the database.
import { readFileSync } from "node:fs";
import { and, eq, gt } from "drizzle-orm";
import type { Db } from "./db/open.ts";
import { certificates } from "./db/schema.ts";
import type { Hooks, Logger, Tls } from "./types.ts";

export interface Pem {
  key: string;
  cert: string;
}

async function selfSigned(db: Db, hostname: string, log: Logger): Promise<Pem> {
  const now = Date.now();
  const rows = await db.orm
    .select()
    .from(certificates)
    .where(and(eq(certificates.issuer, "self-signed"), gt(certificates.notAfter, now + 7 * 86_400_000)));
  const hit = rows.find((r) => (JSON.parse(r.names) as string[]).includes(hostname));
  if (hit) return { key: hit.keyPem, cert: hit.certPem };
  const notAfter = new Date(now + 365 * 86_400_000);
  // Loaded only when a certificate is made (first start): it weighs ~20 MiB of RSS.
  const { default: selfsigned } = await import("selfsigned");
  const pems = await selfsigned.generate([{ name: "commonName", value: hostname }], {
    // ECDSA P-256: every current TLS client takes it, and it is generated in milliseconds.
    keyType: "ec",
    curve: "P-256",
    algorithm: "sha256",
    notAfterDate: notAfter,
    extensions: [
      { name: "basicConstraints", cA: false },
      { name: "keyUsage", digitalSignature: true, keyEncipherment: true },
      { name: "extKeyUsage", serverAuth: true },
      { name: "subjectAltName", altNames: [{ type: 2, value: hostname }] },
    ],
  });
  await db.write(async (tx) => {
    await tx.orm.insert(certificates).values({
      names: JSON.stringify([hostname]),
      keyPem: pems.private,
      certPem: pems.cert,
      issuer: "self-signed",
      notAfter: notAfter.getTime(),
      createdAt: now,
    });
  });
  log.info("generated a self-signed certificate", { hostname, notAfter: notAfter.toISOString() });
  return { key: pems.private, cert: pems.cert };
}

export async function createTls(opts: { db: Db; hooks: Hooks; log: Logger; hostname: string; certFile?: string; keyFile?: string }): Promise<Tls> {
  const fallback: Pem =
    opts.certFile && opts.keyFile
      ? { cert: readFileSync(opts.certFile, "utf8"), key: readFileSync(opts.keyFile, "utf8") }
      : await selfSigned(opts.db, opts.hostname, opts.log);
  return {
    async certificateFor(servername) {
      const r = await opts.hooks.run("tls.certificate", servername);
      return r.kind === "certificate" ? { key: r.key, cert: r.cert } : fallback;
    },
  };
}
