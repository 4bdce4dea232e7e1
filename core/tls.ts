// Certificates: the tls.certificate hook first (the acme plugin), then a configured PEM pair
// (re-read when its files change: certbot, a proxy's renewals), then a self-signed
// certificate generated on first start and kept in the database. `changed()` tells the
// listeners to give new connections the new certificates (hot reload).
import { readFileSync, unwatchFile, watchFile } from "node:fs";
import { createSecureContext } from "node:tls";
import { and, eq, gt } from "drizzle-orm";
import type { Db } from "./db/open.ts";
import { certificates } from "./db/schema.ts";
import { type Pem, selfSignedCertificate } from "./self-signed.ts";
import type { Hooks, Logger, Tls, TlsCertificate } from "./types.ts";

async function selfSigned(db: Db, hostname: string, log: Logger): Promise<Pem> {
  const now = Date.now();
  const rows = await db.orm
    .select()
    .from(certificates)
    .where(and(eq(certificates.issuer, "self-signed"), gt(certificates.notAfter, now + 7 * 86_400_000)));
  const hit = rows.find((r) => (JSON.parse(r.names) as string[]).includes(hostname));
  if (hit) return { key: hit.keyPem, cert: hit.certPem };
  const notAfter = new Date(now + 365 * 86_400_000);
  const pems = selfSignedCertificate({ hostname, notAfter });
  await db.write(async (tx) => {
    await tx.orm.insert(certificates).values({
      names: JSON.stringify([hostname]),
      keyPem: pems.key,
      certPem: pems.cert,
      issuer: "self-signed",
      notAfter: notAfter.getTime(),
      createdAt: now,
    });
  });
  log.info("generated a self-signed certificate", { hostname, notAfter: notAfter.toISOString() });
  return pems;
}

/** Read a PEM pair; throws with the reason when the files are unreadable or do not match. */
function readPair(certFile: string, keyFile: string): Pem {
  const pem = { cert: readFileSync(certFile, "utf8"), key: readFileSync(keyFile, "utf8") };
  createSecureContext(pem); // rejects a key that does not belong to the certificate
  return pem;
}

/** How often the configured files are polled (a watch on the path survives certbot's
 *  symlink swaps, where an inotify watch on the old inode would not). */
const FILE_POLL_MS = 2_000;

export async function createTls(opts: { db: Db; hooks: Hooks; log: Logger; hostname: string; certFile?: string; keyFile?: string }): Promise<Tls & { close(): void }> {
  const { certFile, keyFile } = opts;
  const files = certFile && keyFile ? { certFile, keyFile } : undefined;
  let fallback: Pem = files ? readPair(files.certFile, files.keyFile) : await selfSigned(opts.db, opts.hostname, opts.log);
  const listeners = new Set<() => void>();
  const changed = (): void => {
    for (const cb of listeners) {
      try {
        cb();
      } catch (err) {
        opts.log.error("certificate reload failed", { err: (err as Error).message });
      }
    }
  };
  const reread = (): void => {
    if (!files) return;
    try {
      const next = readPair(files.certFile, files.keyFile);
      if (next.cert === fallback.cert && next.key === fallback.key) return;
      fallback = next;
      opts.log.info("certificate files changed: reloaded", { certFile: files.certFile });
      changed();
    } catch (err) {
      // Half-written files (cert replaced before the key) come right on the next poll.
      opts.log.warn("certificate files unusable, keeping the previous certificate", { err: (err as Error).message });
    }
  };
  if (files) for (const f of [files.certFile, files.keyFile]) watchFile(f, { interval: FILE_POLL_MS }, reread);
  return {
    async certificateFor(servername) {
      const r = await opts.hooks.run("tls.certificate", servername);
      return r.kind === "certificate" ? { key: r.key, cert: r.cert } : fallback;
    },
    async certificates() {
      const named: TlsCertificate[] = (await opts.hooks.run("tls.certificates")).flatMap((r) => (r?.kind === "certificates" ? r.certificates : []));
      // A plugin's certificate for the host name replaces the fallback as the default.
      const own = named.find((c) => c.names.includes(opts.hostname));
      return { fallback: own ? { key: own.key, cert: own.cert } : fallback, named };
    },
    changed,
    onChange(cb) {
      listeners.add(cb);
      return () => listeners.delete(cb);
    },
    close() {
      if (files) for (const f of [files.certFile, files.keyFile]) unwatchFile(f, reread);
      listeners.clear();
    },
  };
}
