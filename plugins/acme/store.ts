// What the acme plugin keeps in the database: the account key per directory and the
// per-name status in the core's `settings` table, the certificates (with their keys) in
// the core's `certificates` table (issuer "acme"), so several instances share them.
import { and, desc, eq, inArray, like, lt } from "drizzle-orm";
import type { Db } from "../../core/db/open.ts";
import { certificates, settings } from "../../core/db/schema.ts";

export interface Account {
  keyPem: string;
  /** Account URL once registered (saves a round trip). */
  url?: string;
}

/** Everything `kotakpos tls status` shows about one name. */
export interface NameStatus {
  name: string;
  /** valid: a CA certificate is served; pending: not tried yet; skipped: the self-check
   *  found the name does not reach us; failed: the last order failed (see lastError). */
  state: "pending" | "valid" | "skipped" | "failed";
  issuer?: string;
  notAfter?: number;
  /** When the certificate will be renewed (two-thirds of its lifetime, with jitter). */
  renewAt?: number;
  /** Earliest next try after a failure or a skip (backoff, Retry-After). */
  nextAttemptAt?: number;
  failures: number;
  lastError?: string;
  lastErrorAt?: number;
  /** The CA refused for good (rejected identifier, CAA …): retried only after a day or `tls renew`. */
  permanent?: boolean;
  updatedAt: number;
}

export interface StoredCert {
  name: string;
  keyPem: string;
  certPem: string;
  notAfter: number;
  createdAt: number;
}

const ISSUER = "acme";
const accountKey = (directory: string) => `acme.account:${directory}`;
const statusKey = (name: string) => `acme.status:${name}`;
/** `kotakpos tls renew` leaves this for the running server (value: JSON list of names, [] = all). */
export const RENEW_KEY = "acme.renew";

async function put(db: Db, key: string, value: string): Promise<void> {
  await db.write((tx) => tx.orm.insert(settings).values({ key, value }).onConflictDoUpdate({ target: settings.key, set: { value } }));
}

async function get(db: Db, key: string): Promise<string | undefined> {
  const rows = await db.orm.select().from(settings).where(eq(settings.key, key));
  return rows[0]?.value;
}

export async function loadAccount(db: Db, directory: string): Promise<Account | undefined> {
  const v = await get(db, accountKey(directory));
  return v ? (JSON.parse(v) as Account) : undefined;
}

export const saveAccount = (db: Db, directory: string, a: Account) => put(db, accountKey(directory), JSON.stringify(a));

export async function loadStatuses(db: Db): Promise<NameStatus[]> {
  const rows = await db.orm.select().from(settings).where(like(settings.key, "acme.status:%"));
  return rows.map((r) => JSON.parse(r.value) as NameStatus).sort((a, b) => a.name.localeCompare(b.name));
}

export const saveStatus = (db: Db, s: NameStatus) => put(db, statusKey(s.name), JSON.stringify(s));

/** The newest certificate of each name. */
export async function loadCerts(db: Db): Promise<Map<string, StoredCert>> {
  const rows = await db.orm.select().from(certificates).where(eq(certificates.issuer, ISSUER)).orderBy(desc(certificates.createdAt), desc(certificates.id));
  const out = new Map<string, StoredCert>();
  for (const r of rows) {
    const [name] = JSON.parse(r.names) as string[];
    if (name && !out.has(name)) out.set(name, { name, keyPem: r.keyPem, certPem: r.certPem, notAfter: r.notAfter, createdAt: r.createdAt });
  }
  return out;
}

/** Store a new certificate for a name and drop that name's expired ones. */
export async function saveCert(db: Db, c: StoredCert): Promise<void> {
  await db.write(async (tx) => {
    await tx.orm.insert(certificates).values({ names: JSON.stringify([c.name]), keyPem: c.keyPem, certPem: c.certPem, issuer: ISSUER, notAfter: c.notAfter, createdAt: c.createdAt });
    await tx.orm.delete(certificates).where(and(eq(certificates.issuer, ISSUER), eq(certificates.names, JSON.stringify([c.name])), lt(certificates.notAfter, c.createdAt)));
  });
}

export async function requestRenewal(db: Db, names: string[]): Promise<void> {
  await put(db, RENEW_KEY, JSON.stringify(names));
}

/** Take (and clear) a pending `tls renew` request. */
export async function takeRenewal(db: Db): Promise<string[] | undefined> {
  const v = await get(db, RENEW_KEY);
  if (v === undefined) return undefined;
  await db.write((tx) => tx.orm.delete(settings).where(inArray(settings.key, [RENEW_KEY])));
  return JSON.parse(v) as string[];
}
