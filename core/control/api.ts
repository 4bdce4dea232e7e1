// The admin operations behind the CLI's domain/user/alias/queue/plugins commands. One
// implementation over the store, database and spool; the CLI calls it directly (database
// opened by the CLI) or through the control socket of a running server, which runs the
// same code on its own store so that sessions see the change (DESIGN.md).
import { eq } from "drizzle-orm";
import type { Db } from "../db/open.ts";
import { aliases } from "../db/schema.ts";
import type { Spool, QueueEntry } from "../spool/types.ts";
import type { Store } from "../store/types.ts";

export type AliasInsert = typeof aliases.$inferInsert;
export type AliasRow = typeof aliases.$inferSelect;

export interface PluginReport {
  /** Plugins set up, in order. */
  plugins: string[];
  disabled: string[];
  /** "name:port" of the listeners the plugins asked for (bound ports when running). */
  listeners: string[];
  /** Hook handlers in run order. */
  hooks: { hook: string; plugin: string }[];
  /** True when the report comes from the running server. */
  live: boolean;
}

export interface AccountInfo {
  address: string;
  disabled: boolean;
}

export interface AdminApi {
  isLocalDomain(name: string): Promise<boolean>;
  addDomain(name: string): Promise<void>;
  listDomains(): Promise<string[]>;
  deleteDomain(name: string): Promise<boolean>;
  listAccounts(domain?: string): Promise<AccountInfo[]>;
  accountExists(address: string): Promise<boolean>;
  createAccount(address: string, password: string): Promise<void>;
  setPassword(address: string, password: string): Promise<boolean>;
  deleteAccount(address: string): Promise<boolean>;
  /** False when an alias with this address exists already. */
  addAlias(row: AliasInsert): Promise<boolean>;
  listAliases(): Promise<AliasRow[]>;
  deleteAlias(address: string): Promise<boolean>;
  queueList(): Promise<QueueEntry[]>;
  queueGet(id: string): Promise<QueueEntry[]>;
  queueRetry(id: string): Promise<number>;
  queueDelete(id: string): Promise<number>;
  plugins(): Promise<PluginReport>;
}

/** The methods the control socket accepts (nothing else is callable through it). */
export const ADMIN_METHODS = [
  "isLocalDomain",
  "addDomain",
  "listDomains",
  "deleteDomain",
  "listAccounts",
  "accountExists",
  "createAccount",
  "setPassword",
  "deleteAccount",
  "addAlias",
  "listAliases",
  "deleteAlias",
  "queueList",
  "queueGet",
  "queueRetry",
  "queueDelete",
  "plugins",
] as const satisfies readonly (keyof AdminApi)[];

export function createAdminApi(parts: { store: Store; db: Db; spool: Spool; plugins: () => Promise<PluginReport> }): AdminApi {
  const { store, db, spool } = parts;
  return {
    isLocalDomain: (name) => store.isLocalDomain(name),
    addDomain: async (name) => void (await store.addDomain(name)),
    listDomains: async () => (await store.listDomains()).map((d) => d.name),
    deleteDomain: (name) => store.deleteDomain(name),
    listAccounts: async (domain) => (await store.listAccounts(domain)).map((a) => ({ address: a.address, disabled: a.disabled })),
    accountExists: async (address) => (await store.getAccount(address)) !== null,
    createAccount: async (address, password) => void (await store.createAccount(address, password)),
    setPassword: (address, password) => store.setPassword(address, password),
    deleteAccount: (address) => store.deleteAccount(address),
    addAlias: async (row) => {
      const inserted = await db.write((tx) => tx.orm.insert(aliases).values(row).onConflictDoNothing().returning({ id: aliases.id }));
      return inserted.length > 0;
    },
    listAliases: () => db.orm.select().from(aliases).orderBy(aliases.address),
    deleteAlias: async (address) => {
      const gone = await db.write((tx) => tx.orm.delete(aliases).where(eq(aliases.address, address)).returning({ id: aliases.id }));
      return gone.length > 0;
    },
    queueList: () => spool.list(),
    queueGet: (id) => spool.get(id),
    queueRetry: (id) => spool.retry(id),
    queueDelete: (id) => spool.delete(id),
    plugins: parts.plugins,
  };
}
