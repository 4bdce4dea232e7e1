// Domains and accounts. Passwords are argon2id hashes (Bun.password).
import type { Row } from "@libsql/client";
import { StoreError } from "./errors.ts";
import { createCredentialCache } from "./credential-cache.ts";
import { normalizeAddress, normalizeDomain } from "./names.ts";
import { accountGoneAfterCommit, exec, othersWrite, read, unrefMessages, type StoreCtx } from "./ctx.ts";
import { createMailboxInTx } from "./mailboxes.ts";
import type { Account, Domain, Store } from "./types.ts";

/** Mailboxes every new account gets (RFC 6154 special-use). */
export const DEFAULT_MAILBOXES: [string, string | null][] = [
  ["INBOX", null],
  ["Sent", "\\Sent"],
  ["Drafts", "\\Drafts"],
  ["Trash", "\\Trash"],
  ["Junk", "\\Junk"],
  ["Archive", "\\Archive"],
];

const toDomain = (r: Row): Domain => ({ id: Number(r.id), name: String(r.name), createdAt: Number(r.created_at) });
const toAccount = (r: Row): Account => ({
  id: Number(r.id),
  address: String(r.address),
  domainId: Number(r.domain_id),
  createdAt: Number(r.created_at),
  disabled: Boolean(Number(r.disabled)),
});
const ACCOUNT_COLS = "id, address, domain_id, created_at, disabled";

/** OWASP Password Storage Cheat Sheet (2025): argon2id, 19 MiB, 2 iterations, 1 lane.
 *  Logins are cached (credential-cache.ts), so this cost is paid by first logins and wrong
 *  passwords — where a lower memory cost per concurrent verify also bounds what a flood of
 *  wrong passwords can take. Hashes made with other parameters still verify (they are in
 *  the hash string). */
export const ARGON2 = { algorithm: "argon2id", memoryCost: 19_456, timeCost: 2 } as const;

let dummyHash: Promise<string> | null = null;
function hash(password: string): Promise<string> {
  return Bun.password.hash(password, ARGON2);
}

export type AccountOps = Pick<
  Store,
  | "addDomain"
  | "listDomains"
  | "deleteDomain"
  | "isLocalDomain"
  | "createAccount"
  | "getAccount"
  | "getAccountById"
  | "listAccounts"
  | "findAccounts"
  | "setPassword"
  | "setDisabled"
  | "deleteAccount"
  | "verifyPassword"
>;

/** How long the local-domain list is answered from memory (see domainsNow). */
export const DOMAINS_TTL_MS = 1000;

export function accountOps(ctx: StoreCtx): AccountOps {
  const { db } = ctx;
  // Successful logins remembered briefly (credential-cache.ts): no argon2 per reconnect.
  const credentials = createCredentialCache();

  // The local domains, cached: asked for every recipient of every message (routing, the
  // relay test, the checks' own-domain test) and written almost never. Our own domain
  // writes drop the cache once committed (a read racing the commit is not kept: `gen`).
  // A write by another process we do not hear of (an admin command that could not reach
  // the control socket writes the file directly) shows once the copy is DOMAINS_TTL_MS old.
  // Not used while others write the database (othersWrite: other instances or processes,
  // followed by the change feed or not), nor for a remote database: there every call reads.
  let domainsCache: { list: Domain[]; names: Set<string>; until: number } | null = null;
  let domainsGen = 0;
  const dropDomains = () => {
    domainsGen++;
    domainsCache = null;
  };
  const cacheable = () => db.local && !othersWrite(ctx);
  async function domainsNow(): Promise<{ list: Domain[]; names: Set<string> }> {
    if (domainsCache && domainsCache.until > performance.now() && cacheable()) return domainsCache;
    const gen = domainsGen;
    const list = (await read(ctx, "SELECT id, name, created_at FROM domains ORDER BY name")).rows.map(toDomain);
    const v = { list, names: new Set(list.map((d) => d.name)), until: performance.now() + DOMAINS_TTL_MS };
    if (gen === domainsGen && cacheable()) domainsCache = v;
    return v;
  }

  async function addDomain(name: string): Promise<Domain> {
    const d = normalizeDomain(name);
    return db.write(async (tx) => {
      tx.afterCommit(dropDomains);
      const r = await exec(tx, "INSERT INTO domains(name, created_at) VALUES (?, ?) ON CONFLICT(name) DO NOTHING RETURNING id, name, created_at", [d, Date.now()]);
      if (r.rows.length) return toDomain(r.rows[0]!);
      const e = await exec(tx, "SELECT id, name, created_at FROM domains WHERE name = ?", [d]);
      return toDomain(e.rows[0]!);
    });
  }

  async function listDomains(): Promise<Domain[]> {
    return (await domainsNow()).list.map((d) => ({ ...d }));
  }

  async function deleteDomain(name: string): Promise<boolean> {
    const d = normalizeDomain(name);
    return db.write(async (tx) => {
      const r = await exec(tx, "SELECT id FROM domains WHERE name = ?", [d]);
      if (!r.rows.length) return false;
      const id = Number(r.rows[0]!.id);
      const n = await exec(tx, "SELECT count(*) AS n FROM accounts WHERE domain_id = ?", [id]);
      if (Number(n.rows[0]!.n) > 0) throw new StoreError("INUSE", `domain ${d} still has accounts`);
      tx.afterCommit(dropDomains);
      await exec(tx, "DELETE FROM domains WHERE id = ?", [id]);
      return true;
    });
  }

  async function isLocalDomain(name: string): Promise<boolean> {
    let d: string;
    try {
      d = normalizeDomain(name);
    } catch {
      return false;
    }
    return (await domainsNow()).names.has(d);
  }

  /** Creates the account (and its domain if missing) with the default mailboxes. */
  async function createAccount(address: string, password: string): Promise<Account> {
    const a = normalizeAddress(address);
    const pw = await hash(password);
    const acct = await db.write(async (tx) => {
      const now = Date.now();
      const added = await exec(tx, "INSERT INTO domains(name, created_at) VALUES (?, ?) ON CONFLICT(name) DO NOTHING", [a.domain, now]);
      if (added.rowsAffected > 0) tx.afterCommit(dropDomains);
      const dom = await exec(tx, "SELECT id FROM domains WHERE name = ?", [a.domain]);
      const domainId = Number(dom.rows[0]!.id);
      const r = await exec(
        tx,
        `INSERT INTO accounts(address, domain_id, password_hash, modseq, disabled, created_at) VALUES (?, ?, ?, 1, 0, ?)
         ON CONFLICT(address) DO NOTHING RETURNING ${ACCOUNT_COLS}`,
        [a.address, domainId, pw, now],
      );
      if (!r.rows.length) throw new StoreError("ALREADYEXISTS", `account ${a.address} exists`);
      const acct = toAccount(r.rows[0]!);
      for (const [name, use] of DEFAULT_MAILBOXES) await createMailboxInTx(ctx, tx, acct.id, name, use);
      return acct;
    });
    return acct;
  }

  async function getAccount(address: string): Promise<Account | null> {
    let a: string;
    try {
      a = normalizeAddress(address).address;
    } catch {
      return null;
    }
    const r = await read(ctx, `SELECT ${ACCOUNT_COLS} FROM accounts WHERE address = ?`, [a]);
    return r.rows.length ? toAccount(r.rows[0]!) : null;
  }

  async function getAccountById(id: number): Promise<Account | null> {
    const r = await read(ctx, `SELECT ${ACCOUNT_COLS} FROM accounts WHERE id = ?`, [id]);
    return r.rows.length ? toAccount(r.rows[0]!) : null;
  }

  async function listAccounts(domain?: string): Promise<Account[]> {
    if (domain === undefined) return (await read(ctx, `SELECT ${ACCOUNT_COLS} FROM accounts ORDER BY address`)).rows.map(toAccount);
    const d = normalizeDomain(domain);
    const r = await read(ctx, `SELECT a.id, a.address, a.domain_id, a.created_at, a.disabled FROM accounts a JOIN domains d ON d.id = a.domain_id WHERE d.name = ? ORDER BY a.address`, [d]);
    return r.rows.map(toAccount);
  }

  async function setPassword(address: string, password: string): Promise<boolean> {
    const a = normalizeAddress(address).address;
    const pw = await hash(password);
    return db.write(async (tx) => (await exec(tx, "UPDATE accounts SET password_hash = ? WHERE address = ?", [pw, a])).rowsAffected > 0);
  }

  async function setDisabled(address: string, disabled: boolean): Promise<boolean> {
    const a = normalizeAddress(address).address;
    return db.write(async (tx) => {
      const r = await exec(tx, "UPDATE accounts SET disabled = ? WHERE address = ? RETURNING id", [disabled ? 1 : 0, a]);
      if (!r.rows.length) return false;
      if (disabled) accountGoneAfterCommit(ctx, tx, { accountId: Number(r.rows[0]!.id), address: a, reason: "disabled" });
      return true;
    });
  }

  /** Deletes the account, its mailboxes, messages and tombstones; blob references dropped. */
  async function deleteAccount(address: string): Promise<boolean> {
    const a = normalizeAddress(address).address;
    return db.write(async (tx) => {
      const r = await exec(tx, "SELECT id FROM accounts WHERE address = ?", [a]);
      if (!r.rows.length) return false;
      const id = Number(r.rows[0]!.id);
      const inAcct = "mailbox_id IN (SELECT id FROM mailboxes WHERE account_id = ?)";
      await unrefMessages(tx, inAcct, [id]);
      await exec(tx, `DELETE FROM messages WHERE ${inAcct}`, [id]);
      await exec(tx, `DELETE FROM tombstones WHERE ${inAcct}`, [id]);
      await exec(tx, "DELETE FROM mailboxes WHERE account_id = ?", [id]);
      await exec(tx, "DELETE FROM accounts WHERE id = ?", [id]);
      accountGoneAfterCommit(ctx, tx, { accountId: id, address: a, reason: "deleted" });
      return true;
    });
  }

  /** Constant-ish time: unknown or disabled accounts still cost one argon2 verify. */
  async function verifyPassword(address: string, password: string): Promise<Account | null> {
    let row: Row | undefined;
    try {
      const a = normalizeAddress(address).address;
      row = (await read(ctx, `SELECT ${ACCOUNT_COLS}, password_hash FROM accounts WHERE address = ?`, [a])).rows[0];
    } catch {
      row = undefined;
    }
    if (!row || Number(row.disabled)) {
      dummyHash ??= hash("kotakpos-dummy-password");
      await Bun.password.verify(password, await dummyHash).catch(() => false);
      return null;
    }
    const stored = String(row.password_hash);
    const canonical = String(row.address);
    if (credentials.has(canonical, stored, password)) return toAccount(row);
    const ok = await Bun.password.verify(password, stored).catch(() => false);
    if (ok) credentials.remember(canonical, stored, password);
    return ok ? toAccount(row) : null;
  }

  async function findAccounts(addresses: string[], opts: { caseFold?: boolean } = {}): Promise<Map<string, Account>> {
    const keys = [...new Set(addresses)];
    const out = new Map<string, Account>();
    if (!keys.length) return out;
    // The whole list as ONE bound JSON parameter: one statement for a 1,000-member group.
    const exact = await read(ctx, `SELECT ${ACCOUNT_COLS} FROM accounts WHERE address IN (SELECT value FROM json_each(?))`, [JSON.stringify(keys)]);
    for (const r of exact.rows) out.set(String(r.address), toAccount(r));
    const misses = keys.filter((k) => !out.has(k));
    if (opts.caseFold && misses.length) {
      // Accounts created with capitals in the local part: a scan, only for the misses.
      const lowered = new Map(misses.map((m) => [m.toLowerCase(), m]));
      const r = await read(ctx, `SELECT ${ACCOUNT_COLS} FROM accounts WHERE lower(address) IN (SELECT value FROM json_each(?))`, [JSON.stringify([...lowered.keys()])]);
      for (const row of r.rows) {
        const k = lowered.get(String(row.address).toLowerCase());
        if (k && !out.has(k)) out.set(k, toAccount(row));
      }
    }
    return out;
  }

  return { addDomain, listDomains, deleteDomain, isLocalDomain, createAccount, getAccount, getAccountById, listAccounts, findAccounts, setPassword, setDisabled, deleteAccount, verifyPassword };
}
