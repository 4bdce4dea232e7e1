// Singleton jobs across instances (DESIGN.md "Several instances"): ACME orders, TLS
// reports, health checks and blob GC run on one instance at a time, the one holding the
// job's lease (a row: owner and expiry) in the shared database. The holder renews it on
// each run; a dead holder's lease is taken over once it has expired. One statement does
// take-or-renew atomically (an upsert whose update applies only to our own or an expired
// lease), so two instances can never both hold it. On an embedded database only one
// process holds leases (the only one, or the primary of several: listen.processes): every
// lease is ours and nothing is written.
import type { Db } from "./db/open.ts";

export interface Leases {
  /** This instance's name in lease rows (and the spool's). */
  readonly owner: string;
  /** Take or extend the lease `name` for ttlMs; false while another live instance holds it. */
  hold(name: string, ttlMs: number, now?: number): Promise<boolean>;
  /** Give it up (an orderly stop), so another instance need not wait for the expiry. */
  release(name: string): Promise<void>;
  /** Give up every lease this instance took (shutdown). */
  releaseAll(): Promise<void>;
}

export function instanceName(hostname: string): string {
  return `${hostname}#${process.pid}#${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
}

/** A worker process of a multi-process serve (core/procs.ts): singletons run in its
 *  primary (which also serves HTTP, where ACME's HTTP-01 answers live), never here. */
export function workerLeases(owner: string): Leases {
  return { owner, hold: async () => false, release: async () => {}, releaseAll: async () => {} };
}

/** `shared`: the database may be written by other instances (a libSQL server). */
export function createLeases(db: Db, owner: string, shared = !db.local): Leases {
  if (!shared) return { owner, hold: async () => true, release: async () => {}, releaseAll: async () => {} };
  const taken = new Set<string>();
  const release = async (name: string) => {
    taken.delete(name);
    await db.write((tx) => tx.execute({ sql: "DELETE FROM leases WHERE name = ? AND owner = ?", args: [name, owner] }));
  };
  return {
    owner,
    async hold(name, ttlMs, now = Date.now()) {
      const rs = await db.write((tx) =>
        tx.execute({
          sql: `INSERT INTO leases(name, owner, until) VALUES (?, ?, ?)
                ON CONFLICT(name) DO UPDATE SET owner = excluded.owner, until = excluded.until
                WHERE leases.owner = excluded.owner OR leases.until <= ?
                RETURNING owner`,
          args: [name, owner, now + ttlMs, now],
        }),
      );
      if (rs.rows.length !== 1) return false;
      taken.add(name);
      return true;
    },
    release,
    async releaseAll() {
      await Promise.all([...taken].map(release));
    },
  };
}
