// DKIM keys per local domain, in the dkim_keys table: one RSA-2048 (rsa-sha256) and one
// Ed25519 (ed25519-sha256, RFC 8463) key each, selectors dated "k2026a" / "e2026a".
// Rotation is two steps so the new record can be published before it signs anything:
// stage (new keys, not yet signing) → activate (new keys sign, old ones retired, still
// published until pruned so mail in flight keeps verifying).
import { generateKeyPair as genCb, createPrivateKey, type KeyObject } from "node:crypto";
import { domainToASCII } from "node:url";
import { promisify } from "node:util";
import { and, eq, inArray } from "drizzle-orm";
import type { Db } from "../../core/db/open.ts";
import { dkimKeys } from "./schema.ts";
import type { DkimAlgorithm, SigningKey } from "./dkim-sign.ts";

const generateKeyPair = promisify(genCb);

export const ALGORITHMS: DkimAlgorithm[] = ["rsa-sha256", "ed25519-sha256"];
export type KeyState = "active" | "staged" | "retired";

export interface DkimKey {
  id: number;
  domain: string;
  selector: string;
  algorithm: DkimAlgorithm;
  /** PEM (PKCS#8). */
  privateKey: string;
  /** The p= value of the DNS record (base64). */
  publicKey: string;
  state: KeyState;
  createdAt: number;
}

/** A new key pair: PKCS#8 PEM private key and the p= value (RSA: SPKI DER; Ed25519: the raw
 *  32-byte key, RFC 8463 §4, i.e. the SPKI DER without its 12-byte prefix). */
export async function newKeyPair(algorithm: DkimAlgorithm): Promise<{ privateKey: string; publicKey: string }> {
  const enc = { publicKeyEncoding: { type: "spki", format: "der" }, privateKeyEncoding: { type: "pkcs8", format: "pem" } } as const;
  if (algorithm === "rsa-sha256") {
    const kp = await generateKeyPair("rsa", { modulusLength: 2048, ...enc });
    return { privateKey: kp.privateKey, publicKey: Buffer.from(kp.publicKey).toString("base64") };
  }
  const kp = await generateKeyPair("ed25519", enc);
  return { privateKey: kp.privateKey, publicKey: Buffer.from(kp.publicKey).subarray(12).toString("base64") };
}

/** "k"/"e" + year + letters (a…z, aa…): the first unused one for that year. */
export function nextSelector(algorithm: DkimAlgorithm, existing: Iterable<string>, now = new Date()): string {
  const prefix = (algorithm === "rsa-sha256" ? "k" : "e") + now.getUTCFullYear();
  const taken = new Set(existing);
  for (let i = 0; ; i++) {
    let s = "";
    for (let n = i + 1; n > 0; n = Math.floor((n - 1) / 26)) s = String.fromCharCode(97 + ((n - 1) % 26)) + s;
    if (!taken.has(prefix + s)) return prefix + s;
  }
}

type Row = typeof dkimKeys.$inferSelect;

/** State of each row: per algorithm, the newest active key is active; inactive keys newer
 *  than it are staged, older ones retired. (Older active rows cannot exist: activation
 *  retires them.) */
function withState(rows: Row[]): DkimKey[] {
  const out: DkimKey[] = [];
  for (const alg of ALGORITHMS) {
    const mine = rows.filter((r) => r.algorithm === alg).sort((a, b) => a.id - b.id);
    const current = [...mine].reverse().find((r) => r.active);
    for (const r of mine) {
      const state: KeyState = r.active && r === current ? "active" : current && r.id > current.id ? "staged" : current ? "retired" : "staged";
      out.push({ id: r.id, domain: r.domain, selector: r.selector, algorithm: alg, privateKey: r.privateKey, publicKey: r.publicKey, state, createdAt: r.createdAt });
    }
  }
  return out;
}

export async function listKeys(db: Db, domain: string): Promise<DkimKey[]> {
  const rows = await db.orm.select().from(dkimKeys).where(eq(dkimKeys.domain, domain.toLowerCase()));
  return withState(rows);
}

async function insertKeys(db: Db, domain: string, algorithms: DkimAlgorithm[], active: boolean, onlyIfNoActive: boolean): Promise<void> {
  if (algorithms.length === 0) return;
  // Key generation (RSA takes ~50–200 ms) happens outside the write transaction.
  const pairs = await Promise.all(algorithms.map(async (a) => ({ algorithm: a, ...(await newKeyPair(a)) })));
  await db.write(async (tx) => {
    const existing = await tx.orm.select().from(dkimKeys).where(eq(dkimKeys.domain, domain));
    const now = Date.now();
    for (const p of pairs) {
      // Re-checked inside the transaction: two processes (CLI and server) may race.
      if (onlyIfNoActive && existing.some((r) => r.algorithm === p.algorithm && r.active)) continue;
      const selector = nextSelector(
        p.algorithm,
        existing.map((r) => r.selector),
      );
      const row = { domain, selector, algorithm: p.algorithm, privateKey: p.privateKey, publicKey: p.publicKey, active, createdAt: now };
      await tx.orm.insert(dkimKeys).values(row);
      existing.push({ id: Number.MAX_SAFE_INTEGER, ...row });
    }
  });
}

/** The domain's keys, creating an active RSA and Ed25519 key if it has none. */
export async function ensureKeys(db: Db, domain: string): Promise<DkimKey[]> {
  domain = domain.toLowerCase();
  const keys = await listKeys(db, domain);
  const missing = ALGORITHMS.filter((a) => !keys.some((k) => k.algorithm === a && k.state === "active"));
  if (missing.length === 0) return keys;
  await insertKeys(db, domain, missing, true, true);
  return listKeys(db, domain);
}

/** Rotation step 1: new keys that do not sign yet (publish their records first). */
export async function stageRotation(db: Db, domain: string): Promise<DkimKey[]> {
  domain = domain.toLowerCase();
  await ensureKeys(db, domain);
  const keys = await listKeys(db, domain);
  const need = ALGORITHMS.filter((a) => !keys.some((k) => k.algorithm === a && k.state === "staged"));
  await insertKeys(db, domain, need, false, false);
  return listKeys(db, domain);
}

/** Rotation step 2: the newest staged key of each algorithm signs; the previous one is retired. */
export async function activateRotation(db: Db, domain: string): Promise<DkimKey[]> {
  domain = domain.toLowerCase();
  const keys = await listKeys(db, domain);
  const staged = ALGORITHMS.map((a) => keys.filter((k) => k.algorithm === a && k.state === "staged").at(-1)).filter((k): k is DkimKey => !!k);
  if (staged.length === 0) throw new Error(`no staged DKIM keys for ${domain}: stage a rotation first`);
  await db.write(async (tx) => {
    for (const k of staged) {
      await tx.orm
        .update(dkimKeys)
        .set({ active: false })
        .where(and(eq(dkimKeys.domain, domain), eq(dkimKeys.algorithm, k.algorithm)));
      await tx.orm.update(dkimKeys).set({ active: true }).where(eq(dkimKeys.id, k.id));
    }
  });
  return listKeys(db, domain);
}

/** Delete retired keys (after their records have been removed from DNS). */
export async function pruneRetired(db: Db, domain: string): Promise<number> {
  const retired = (await listKeys(db, domain)).filter((k) => k.state === "retired").map((k) => k.id);
  if (retired.length === 0) return 0;
  await db.write((tx) => tx.orm.delete(dkimKeys).where(inArray(dkimKeys.id, retired)));
  return retired.length;
}

/** Signing keys per domain, cached (parsing PEM per message is slow); entries expire so a
 *  rotation by another process (the CLI) is picked up. */
export function createKeyCache(db: Db, ttlMs = 60_000) {
  const cache = new Map<string, { at: number; keys: Promise<SigningKey[]> }>();
  const load = async (domain: string): Promise<SigningKey[]> => {
    const keys = await ensureKeys(db, domain);
    return (
      keys
        .filter((k) => k.state === "active")
        // d= in A-label form, as the key's DNS name is (RFC 8616 §4: U-labels would not resolve).
        .map((k) => ({ domain: domainToASCII(domain) || domain, selector: k.selector, algorithm: k.algorithm, privateKey: createPrivateKey(k.privateKey) as KeyObject }))
    );
  };
  return {
    signingKeys(domain: string): Promise<SigningKey[]> {
      domain = domain.toLowerCase();
      const hit = cache.get(domain);
      if (hit && Date.now() - hit.at < ttlMs) return hit.keys;
      const keys = load(domain);
      cache.set(domain, { at: Date.now(), keys });
      keys.catch(() => cache.delete(domain));
      return keys;
    },
    invalidate(domain?: string) {
      if (domain) cache.delete(domain.toLowerCase());
      else cache.clear();
    },
  };
}
export type KeyCache = ReturnType<typeof createKeyCache>;
