// Batched lookups for alias expansion: one query per table per level of the expansion (not
// one per member), so a 1,000-member group costs a handful of queries. The plugin's own
// tables (aliases, alias_domains) are read here; domains, accounts and mailboxes only
// through Store methods (store.listDomains, store.findAccounts, store.listMailboxes).
import { sql, type SQL, type SQLWrapper } from "drizzle-orm";
import type { Db } from "../../core/db/open.ts";
import type { Store } from "../../core/store/types.ts";
import { aliasDomains, aliases } from "./schema.ts";
import { domainForms } from "./address.ts";

export interface AliasRow {
  /** "local@domain" or "@domain" (catch-all), as stored. */
  address: string;
  targets: string[];
  kind: "alias" | "group";
  membersOnly: boolean;
  /** Account addresses that may send as this address. */
  senders: string[];
}

export interface AccountRow {
  id: number;
  address: string;
  disabled: boolean;
}

/** A local domain after following domain aliases (`alias_domains.alias_of`). */
export type DomainInfo =
  | { kind: "local" /** stored name of the final domain */; canonical: string /** alias_domains.catch_all of it */; catchAll: string | null; rewritten: boolean }
  | { kind: "loop"; chain: string[] };

export interface Directory {
  /** Local domains among `names` (normalized), keyed by the name asked for. */
  domains(names: string[]): Promise<Map<string, DomainInfo>>;
  /** Alias rows by exact stored address. */
  aliases(addresses: string[]): Promise<Map<string, AliasRow>>;
  /** Accounts by address; `caseFold` also matches stored addresses case-insensitively. */
  accounts(addresses: string[], caseFold: boolean): Promise<Map<string, AccountRow>>;
  /** Mailbox names of an account. */
  mailboxes(accountId: number): Promise<string[]>;
}

function parseList(json: string): string[] {
  try {
    const v: unknown = JSON.parse(json);
    return Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : [];
  } catch {
    return [];
  }
}

export function toAliasRow(r: typeof aliases.$inferSelect): AliasRow {
  return {
    address: r.address,
    targets: parseList(r.targets),
    kind: r.kind === "group" ? "group" : "alias",
    membersOnly: r.membersOnly,
    senders: parseList(r.senders).map((s) => s.toLowerCase()),
  };
}

/** Longest chain of domain aliases followed before calling it a loop. */
const MAX_DOMAIN_CHAIN = 8;

/** What the aliases plugin works on: its own rows in the database, the rest via the Store. */
export interface AliasesDb {
  db: Db;
  store: Store;
}

export function dbDirectory(ad: AliasesDb): Directory {
  const orm = ad.db.orm;
  // Built once: drizzle otherwise builds a query's SQL on every call (~100 µs of CPU, more
  // than running it), and this lookup runs for every recipient of every message. The list
  // is ONE bound JSON parameter: one statement for a 1,000-member group (no parameter
  // limit, no chunking), about twice as fast as IN (?, ?, …).
  const aliasQuery = orm
    .select()
    .from(aliases)
    .where(sql`${aliases.address} IN (SELECT value FROM json_each(${sql.placeholder("keys")}))`)
    .prepare();
  const domainSettings = orm.select().from(aliasDomains).prepare();
  return {
    async domains(names) {
      type Row = { id: number; name: string; aliasOf: number | null; catchAll: string | null };
      const wanted = [...new Set(names)];
      const byForm = new Map<string, string>(); // stored-or-ASCII form → name asked for
      for (const n of wanted) for (const f of domainForms(n)) byForm.set(f, n);
      if (byForm.size === 0) return new Map();
      // Domains are few: one read of them all through the Store, one of this plugin's rows.
      const all = await ad.store.listDomains();
      const settings = new Map((await domainSettings.all()).map((r) => [r.domainId, r]));
      const byId = new Map<number, Row>(all.map((d) => [d.id, { id: d.id, name: d.name, aliasOf: settings.get(d.id)?.aliasOf ?? null, catchAll: settings.get(d.id)?.catchAll ?? null }]));
      const rows = [...byId.values()].filter((r) => byForm.has(r.name));
      const out = new Map<string, DomainInfo>();
      for (const r of rows) {
        const asked = byForm.get(r.name) ?? byForm.get(r.name.toLowerCase());
        if (!asked || out.has(asked)) continue;
        const chain = [r.name];
        let cur: Row | undefined = r;
        while (cur && cur.aliasOf !== null) {
          cur = byId.get(cur.aliasOf);
          if (!cur) break; // dangling alias_of: treat the last known domain as final
          if (chain.includes(cur.name) || chain.length > MAX_DOMAIN_CHAIN) {
            chain.push(cur.name);
            out.set(asked, { kind: "loop", chain });
            break;
          }
          chain.push(cur.name);
        }
        if (out.has(asked)) continue;
        const final = cur ?? byId.get(r.id)!;
        out.set(asked, { kind: "local", canonical: final.name, catchAll: final.catchAll, rewritten: final.id !== r.id });
      }
      return out;
    },

    async aliases(addresses) {
      const keys = [...new Set(addresses)];
      if (!keys.length) return new Map();
      const rows = await aliasQuery.all({ keys: JSON.stringify(keys) });
      return new Map(rows.map((r) => [r.address, toAliasRow(r)]));
    },

    async accounts(addresses, caseFold) {
      const found = await ad.store.findAccounts(addresses, { caseFold });
      return new Map([...found].map(([k, a]) => [k, { id: a.id, address: a.address, disabled: a.disabled }]));
    },

    async mailboxes(accountId) {
      return (await ad.store.listMailboxes(accountId)).map((m) => m.name);
    },
  };
}

/** A directory that sees `overrides` instead of the stored rows (null = deleted): the
 *  admin checks a change for loops before writing it. */
export function withOverrides(dir: Directory, overrides: Map<string, AliasRow | null>): Directory {
  return {
    ...dir,
    async aliases(addresses) {
      const m = await dir.aliases(addresses.filter((a) => !overrides.has(a)));
      for (const a of addresses) {
        const o = overrides.get(a);
        if (o) m.set(a, o);
      }
      return m;
    },
  };
}
