// Per-account models kept in memory (loaded once from the plugin's tables) and written
// through on every training, one account at a time. The rows change by the training's
// deltas, not to this process's counts: with other processes (listen.processes) or
// instances training too, absolute counts from a stale copy would undo their training.
// While others write, what is kept in memory is read again once it is a minute old.
import type { Db } from "../../core/db/open.ts";
import { MemoryModel } from "./bayes.ts";
import type { SenderCounts } from "./reputation.ts";

/** What a message was learned as ("junk" is kept readable for rows of earlier versions). */
export type LearnedState = "junk" | "spam" | "ham";

/** Sender-domain entries kept before the cache starts over. */
const MAX_SENDERS = 10_000;

/** While others write: how long an in-memory copy is used before it is read again. */
const SHARED_MAX_AGE_MS = 60_000;

export interface ModelStoreOptions {
  /** Other processes or instances train too (core.store.othersWrite). */
  othersWrite?: () => boolean;
  now?: () => number;
}

export class ModelStore {
  private readonly models = new Map<number, Promise<MemoryModel>>();
  private readonly queues = new Map<number, Promise<unknown>>();
  /** Each account's correspondents, loaded at first use (checked for every message). */
  private readonly contacts = new Map<number, Promise<Set<string>>>();
  /** Sender-domain counts by account and domain, read at first use (asked for every message
   *  whose From domain passed DMARC); an entry is dropped when bumpSender has written it. */
  private readonly senders = new Map<string, Promise<SenderCounts | null>>();

  private loadedAt = 0;

  constructor(
    private readonly db: Db,
    private readonly opts: ModelStoreOptions = {},
  ) {}

  /** Others train too: copies older than SHARED_MAX_AGE_MS are dropped, to be read again. */
  private expire(): void {
    if (!this.opts.othersWrite?.()) return;
    const now = (this.opts.now ?? Date.now)();
    if (now - this.loadedAt < SHARED_MAX_AGE_MS) return;
    this.loadedAt = now;
    this.models.clear();
    this.contacts.clear();
    this.senders.clear();
  }

  /** The account's own model (without the seed). */
  model(accountId: number): Promise<MemoryModel> {
    this.expire();
    let m = this.models.get(accountId);
    if (!m) {
      m = this.load(accountId);
      m.catch(() => this.models.delete(accountId));
      this.models.set(accountId, m);
    }
    return m;
  }

  private async load(accountId: number): Promise<MemoryModel> {
    const m = new MemoryModel();
    const t = await this.db.query({ sql: "SELECT spam, ham FROM junk_totals WHERE account_id = ?", args: [accountId] });
    if (t.rows[0]) {
      m.nspam = Number(t.rows[0].spam);
      m.nham = Number(t.rows[0].ham);
    }
    const r = await this.db.query({ sql: "SELECT token, spam, ham FROM junk_tokens WHERE account_id = ?", args: [accountId] });
    for (const row of r.rows) m.tokens.set(String(row.token), { spam: Number(row.spam), ham: Number(row.ham) });
    return m;
  }

  /** Runs fn after every earlier call for this account (training is read-modify-write). */
  serial<T>(accountId: number, fn: () => Promise<T>): Promise<T> {
    const prev = this.queues.get(accountId) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    const settled = next.catch(() => undefined);
    this.queues.set(accountId, settled);
    settled.then(() => {
      if (this.queues.get(accountId) === settled) this.queues.delete(accountId);
    });
    return next;
  }

  /** Learns (or unlearns) one message; call inside `serial`. */
  async learn(accountId: number, tokens: Set<string>, kind: "spam" | "ham", delta: 1 | -1): Promise<void> {
    const m = await this.model(accountId);
    m.learn(tokens, kind, delta);
    const [dSpam, dHam] = kind === "spam" ? [delta, 0] : [0, delta];
    const list = JSON.stringify([...tokens]);
    await this.db.write(async (tx) => {
      // Rows that exist move by the delta; new ones are only ever added (a count of 0 or
      // more), then rows down to nothing go.
      await tx.execute({
        sql: "UPDATE junk_tokens SET spam = max(spam + ?, 0), ham = max(ham + ?, 0) WHERE account_id = ? AND token IN (SELECT value FROM json_each(?))",
        args: [dSpam, dHam, accountId, list],
      });
      if (delta > 0) {
        await tx.execute({
          sql: "INSERT INTO junk_tokens(account_id, token, spam, ham) SELECT ?, value, ?, ? FROM json_each(?) WHERE true ON CONFLICT(account_id, token) DO NOTHING",
          args: [accountId, dSpam, dHam, list],
        });
      } else await tx.execute({ sql: "DELETE FROM junk_tokens WHERE account_id = ? AND spam = 0 AND ham = 0", args: [accountId] });
      await tx.execute({
        sql: "INSERT INTO junk_totals(account_id, spam, ham) VALUES (?, max(?, 0), max(?, 0)) ON CONFLICT(account_id) DO UPDATE SET spam = max(spam + ?, 0), ham = max(ham + ?, 0)",
        args: [accountId, dSpam, dHam, dSpam, dHam],
      });
    });
  }

  async state(accountId: number, blobId: string): Promise<LearnedState | null> {
    const r = await this.db.query({ sql: "SELECT state FROM junk_messages WHERE account_id = ? AND blob_id = ?", args: [accountId, blobId] });
    const s = r.rows[0]?.state;
    return s === "junk" || s === "spam" || s === "ham" ? s : null;
  }

  async setState(accountId: number, blobId: string, state: LearnedState): Promise<void> {
    await this.db.write((tx) =>
      tx.execute({
        sql: "INSERT INTO junk_messages(account_id, blob_id, state, at) VALUES (?, ?, ?, ?) ON CONFLICT(account_id, blob_id) DO UPDATE SET state = excluded.state, at = excluded.at",
        args: [accountId, blobId, state, Date.now()],
      }),
    );
  }

  private contactSet(accountId: number): Promise<Set<string>> {
    this.expire();
    let c = this.contacts.get(accountId);
    if (!c) {
      c = this.db.query({ sql: "SELECT address FROM junk_contacts WHERE account_id = ?", args: [accountId] }).then((r) => new Set(r.rows.map((x) => String(x.address))));
      c.catch(() => this.contacts.delete(accountId));
      this.contacts.set(accountId, c);
    }
    return c;
  }

  /** Remembers recipients the user wrote to (lower-cased addresses). */
  async addContacts(accountId: number, addresses: string[]): Promise<void> {
    const fresh = addresses.map((a) => a.toLowerCase());
    const set = await this.contactSet(accountId);
    if (fresh.every((a) => set.has(a))) return;
    for (const a of fresh) set.add(a);
    await this.db.write((tx) =>
      tx.execute({
        sql: "INSERT INTO junk_contacts(account_id, address, at) SELECT ?, value, ? FROM json_each(?) WHERE true ON CONFLICT(account_id, address) DO UPDATE SET at = excluded.at",
        args: [accountId, Date.now(), JSON.stringify(fresh)],
      }),
    );
  }

  async isContact(accountId: number, addresses: string[]): Promise<boolean> {
    if (addresses.length === 0) return false;
    const set = await this.contactSet(accountId);
    return addresses.some((a) => set.has(a.toLowerCase()));
  }

  sender(accountId: number, domain: string): Promise<SenderCounts | null> {
    this.expire();
    const key = `${accountId}\0${domain}`;
    let c = this.senders.get(key);
    if (!c) {
      c = this.db.query({ sql: "SELECT ham, spam FROM junk_senders WHERE account_id = ? AND domain = ?", args: [accountId, domain] }).then((r) => {
        const row = r.rows[0];
        return row ? { ham: Number(row.ham), spam: Number(row.spam) } : null;
      });
      c.catch(() => this.senders.delete(key));
      if (this.senders.size >= MAX_SENDERS) this.senders.clear();
      this.senders.set(key, c);
    }
    return c.then((v) => v && { ...v });
  }

  /** Counts one kept (ham) or junked (spam) message of a sender domain, or takes one back. */
  async bumpSender(accountId: number, domain: string, kind: "spam" | "ham", delta: 1 | -1): Promise<void> {
    const [ham, spam] = kind === "ham" ? [delta, 0] : [0, delta];
    await this.db.write((tx) =>
      tx.execute({
        sql: "INSERT INTO junk_senders(account_id, domain, ham, spam) VALUES (?, ?, max(?, 0), max(?, 0)) ON CONFLICT(account_id, domain) DO UPDATE SET ham = max(ham + ?, 0), spam = max(spam + ?, 0)",
        args: [accountId, domain, ham, spam, ham, spam],
      }),
    );
    // After the commit: a read that raced the write is not kept.
    this.senders.delete(`${accountId}\0${domain}`);
  }

  /** Forget an account's cached model (after its rows were removed). */
  forget(accountId: number): void {
    this.models.delete(accountId);
    for (const k of this.senders.keys()) if (k.startsWith(`${accountId}\0`)) this.senders.delete(k);
  }
}
