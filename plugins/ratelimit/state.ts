// The plugin's state, kept in memory for the hooks (no read per SMTP command) and written
// through to its tables (schema.ts), so a restart forgets no count, hold or ban. Writes
// are not awaited by the hooks: they join the database's group commit; `flush` (at
// shutdown) waits for them. Counts are per minute: a window of W minutes is the sum of
// the last W minute buckets. With other processes or instances on the database
// (listen.processes), `refresh` reads their counts and flags in every few seconds: each
// process otherwise limited, held and banned on what it alone had seen.
import { and, eq, gt, inArray, like, lt, sql } from "drizzle-orm";
import type { Db } from "../../core/db/open.ts";
import type { Logger } from "../../core/types.ts";
import { ratelimitCounts, ratelimitFlags, ratelimitRecipients, ratelimitSenders } from "./schema.ts";

const MINUTE = 60_000;
/** Buckets older than this are dropped (the longest window a counter may have). */
const KEEP_MINUTES = 24 * 60;
/** A count or flag of ours younger than this may not be in the tables yet (its write is
 *  in flight): a refresh keeps it. */
const IN_FLIGHT_MS = 10_000;

export interface Flag {
  until: number;
  note: string;
}

export class RateState {
  /** key → minute → count */
  private readonly counts = new Map<string, Map<number, number>>();
  private readonly flags = new Map<string, Flag>();
  private readonly recipients = new Map<number, Promise<Set<string>>>();
  private readonly senders = new Map<number, Set<string>>();
  private readonly pending = new Set<Promise<unknown>>();
  private lastPurge = 0;
  /** When this process last changed a key's count or flag, and whether it removed it (for
   *  refresh: what the tables say of it may be older). */
  private readonly touched = new Map<string, { at: number; gone: boolean }>();

  constructor(
    private readonly db: Db,
    private readonly log: Logger,
  ) {}

  /** Counts of the last day and the flags not yet expired. */
  async load(now = Date.now()): Promise<void> {
    const since = Math.floor(now / MINUTE) - KEEP_MINUTES;
    for (const r of await this.db.orm.select().from(ratelimitCounts).where(gt(ratelimitCounts.minute, since))) this.bucket(r.key).set(r.minute, r.n);
    for (const f of await this.db.orm.select().from(ratelimitFlags).where(gt(ratelimitFlags.until, now))) this.flags.set(f.key, { until: f.until, note: f.note });
  }

  private bucket(key: string): Map<number, number> {
    let b = this.counts.get(key);
    if (!b) this.counts.set(key, (b = new Map()));
    return b;
  }

  private persist(what: string, fn: (db: Db) => Promise<unknown>): void {
    if (this.db.readOnly) return;
    const p = fn(this.db)
      .catch((err) => this.log.warn(`ratelimit: ${what} not saved`, { err: (err as Error)?.message ?? String(err) }))
      .finally(() => this.pending.delete(p));
    this.pending.add(p);
  }

  /** Takes in what the tables say now (other processes' counts, holds and bans, and what an
   *  admin released), keeping our own changes that may still be on their way there. */
  async refresh(now = Date.now()): Promise<void> {
    const since = Math.floor(now / MINUTE) - KEEP_MINUTES;
    const [counts, flags] = await Promise.all([
      this.db.orm.select().from(ratelimitCounts).where(gt(ratelimitCounts.minute, since)),
      this.db.orm.select().from(ratelimitFlags).where(gt(ratelimitFlags.until, now)),
    ]);
    const recent = (key: string) => now - (this.touched.get(key)?.at ?? 0) < IN_FLIGHT_MS;
    const fresh = new Map<string, Map<number, number>>();
    for (const r of counts) {
      if (recent(r.key) && this.touched.get(r.key)!.gone) continue;
      let b = fresh.get(r.key);
      if (!b) fresh.set(r.key, (b = new Map()));
      b.set(r.minute, r.n);
    }
    for (const [key, b] of this.counts) {
      if (!recent(key)) continue;
      // Ours may be ahead of the table for a moment: the larger of the two.
      let f = fresh.get(key);
      if (!f) fresh.set(key, (f = new Map()));
      for (const [m, n] of b) if (n > (f.get(m) ?? 0)) f.set(m, n);
    }
    this.counts.clear();
    for (const [k, b] of fresh) this.counts.set(k, b);
    // A flag we set or dropped a moment ago: ours stands.
    const keep = [...this.flags].filter(([k]) => recent(k));
    this.flags.clear();
    for (const f of flags) if (!recent(f.key)) this.flags.set(f.key, { until: f.until, note: f.note });
    for (const [k, f] of keep) this.flags.set(k, f);
    for (const [k, t] of this.touched) if (now - t.at >= IN_FLIGHT_MS) this.touched.delete(k);
  }

  /** Sum of the key's buckets within the last `windowMs`. */
  count(key: string, windowMs: number, now = Date.now()): number {
    const b = this.counts.get(key);
    if (!b) return 0;
    const from = Math.floor(now / MINUTE) - Math.ceil(windowMs / MINUTE);
    let n = 0;
    for (const [m, c] of b) {
      if (m > from) n += c;
      else if (m <= Math.floor(now / MINUTE) - KEEP_MINUTES) b.delete(m);
    }
    return n;
  }

  add(key: string, n = 1, now = Date.now()): void {
    if (n <= 0) return;
    const minute = Math.floor(now / MINUTE);
    const b = this.bucket(key);
    b.set(minute, (b.get(minute) ?? 0) + n);
    this.touched.set(key, { at: now, gone: false });
    const purge = now - this.lastPurge > 60 * MINUTE;
    if (purge) this.lastPurge = now;
    this.persist("count", (db) =>
      db.write(async (tx) => {
        await tx.orm
          .insert(ratelimitCounts)
          .values({ key, minute, n })
          .onConflictDoUpdate({ target: [ratelimitCounts.key, ratelimitCounts.minute], set: { n: sql`${ratelimitCounts.n} + ${n}` } });
        if (purge) await tx.orm.delete(ratelimitCounts).where(lt(ratelimitCounts.minute, minute - KEEP_MINUTES));
      }),
    );
  }

  /** Forget a counter (an admin released the account). */
  clear(key: string): void {
    this.counts.delete(key);
    this.touched.set(key, { at: Date.now(), gone: true });
    this.persist("count reset", (db) => db.write((tx) => tx.orm.delete(ratelimitCounts).where(eq(ratelimitCounts.key, key))));
  }

  flag(key: string, now = Date.now()): Flag | null {
    const f = this.flags.get(key);
    if (!f) return null;
    if (f.until > now) return f;
    this.flags.delete(key);
    return null;
  }

  setFlag(key: string, ms: number, note = "", now = Date.now()): void {
    const f = { until: now + ms, note };
    this.flags.set(key, f);
    this.touched.set(key, { at: now, gone: false });
    this.persist("flag", (db) =>
      db.write((tx) =>
        tx.orm
          .insert(ratelimitFlags)
          .values({ key, ...f })
          .onConflictDoUpdate({ target: ratelimitFlags.key, set: f }),
      ),
    );
  }

  /** Flags whose key starts with `prefix`, not expired. */
  flagsLike(prefix: string, now = Date.now()): [string, Flag][] {
    return [...this.flags].filter(([k, f]) => k.startsWith(prefix) && f.until > now);
  }

  dropFlag(key: string): void {
    this.flags.delete(key);
    this.touched.set(key, { at: Date.now(), gone: true });
    this.persist("flag removal", (db) => db.write((tx) => tx.orm.delete(ratelimitFlags).where(eq(ratelimitFlags.key, key))));
  }

  /** The recipients this account wrote to (loaded at first use). */
  knownRecipients(accountId: number): Promise<Set<string>> {
    let r = this.recipients.get(accountId);
    if (!r) {
      r = this.db.orm
        .select({ a: ratelimitRecipients.address })
        .from(ratelimitRecipients)
        .where(eq(ratelimitRecipients.accountId, accountId))
        .then((rows) => new Set(rows.map((x) => x.a)));
      r.catch(() => this.recipients.delete(accountId));
      this.recipients.set(accountId, r);
    }
    return r;
  }

  /** Adds recipients; returns how many were new. */
  async addRecipients(accountId: number, addresses: string[]): Promise<number> {
    const known = await this.knownRecipients(accountId);
    const fresh = [...new Set(addresses.map((a) => a.toLowerCase()))].filter((a) => !known.has(a));
    if (fresh.length === 0) return 0;
    for (const a of fresh) known.add(a);
    this.persist("recipients", (db) =>
      db.write((tx) =>
        tx.orm
          .insert(ratelimitRecipients)
          .values(fresh.map((address) => ({ accountId, address })))
          .onConflictDoNothing(),
      ),
    );
    return fresh.length;
  }

  /** Remembers an envelope sender the account submitted with. */
  addSender(accountId: number, mailFrom: string): void {
    const a = mailFrom.toLowerCase();
    let s = this.senders.get(accountId);
    if (!s) this.senders.set(accountId, (s = new Set()));
    if (!a || s.has(a)) return;
    s.add(a);
    this.persist("sender", (db) => db.write((tx) => tx.orm.insert(ratelimitSenders).values({ accountId, mailFrom: a }).onConflictDoNothing()));
  }

  /** Waits for the writes in flight (shutdown, admin methods). */
  async flush(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }
}

/** The envelope senders an account submitted with (from the table: admin mode too). */
export async function sendersOf(db: Db, accountId: number): Promise<string[]> {
  const rows = await db.orm.select({ m: ratelimitSenders.mailFrom }).from(ratelimitSenders).where(eq(ratelimitSenders.accountId, accountId));
  return rows.map((r) => r.m);
}

/** Held accounts from the table (admin mode: no running plugin). */
export async function heldFlags(db: Db, now = Date.now()): Promise<{ key: string; until: number; note: string }[]> {
  return db.orm
    .select()
    .from(ratelimitFlags)
    .where(and(like(ratelimitFlags.key, "held:%"), gt(ratelimitFlags.until, now)));
}

export async function dropFlagRows(db: Db, keys: string[]): Promise<void> {
  if (keys.length) await db.write((tx) => tx.orm.delete(ratelimitFlags).where(inArray(ratelimitFlags.key, keys)));
}

export async function clearCountRows(db: Db, key: string): Promise<void> {
  await db.write((tx) => tx.orm.delete(ratelimitCounts).where(eq(ratelimitCounts.key, key)));
}
