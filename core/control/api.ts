// The admin operations behind the CLI's domain/user/alias/queue/plugins commands. One
// implementation over the store, database and spool; the CLI calls it directly (database
// opened by the CLI) or through the control socket of a running server, which runs the
// same code on its own store so that sessions see the change (DESIGN.md).
import type { Db } from "../db/open.ts";
import type { ReloadReport } from "../reload.ts";
import { aliases } from "../db/schema.ts";
import type { Spool, QueueEntry } from "../spool/types.ts";
import type { Quota, QuotaLimits, Store } from "../store/types.ts";
import { AliasAdminError, addAlias, addDomainAlias, getAlias, listDomainAliases, removeAlias, removeDomainAlias, type DomainAlias } from "../../plugins/aliases/admin.ts";

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
  /** RFC 9208 quota of an account: limits (null: none) and usage; null when no account. */
  getQuota(address: string): Promise<Quota | null>;
  /** Sets both limits (null: none); false when there is no such account. */
  setQuota(address: string, limits: QuotaLimits): Promise<boolean>;
  /** Checked by the aliases plugin (targets exist, senders are users, no loop; throws
   *  with the reason). "create" (default): false when the alias exists already;
   *  "append": add targets and senders to it; "replace": replace them. */
  addAlias(row: AliasInsert, mode?: "create" | "append" | "replace"): Promise<boolean>;
  listAliases(): Promise<AliasRow[]>;
  /** The whole alias, or only these targets of it; false when there is no such alias. */
  deleteAlias(address: string, targets?: string[]): Promise<boolean>;
  /** Domain aliases: all mail to `domain` is mail to the same address at `target`. */
  addDomainAlias(domain: string, target: string): Promise<DomainAlias>;
  deleteDomainAlias(domain: string): Promise<boolean>;
  listDomainAliases(): Promise<DomainAlias[]>;
  queueList(): Promise<QueueEntry[]>;
  queueGet(id: string): Promise<QueueEntry[]>;
  queueRetry(id: string): Promise<number>;
  queueDelete(id: string): Promise<number>;
  plugins(): Promise<PluginReport>;
  /** Re-read the config file in the running server (refused, changing nothing, when invalid). */
  reload(): Promise<ReloadReport>;
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
  "getQuota",
  "setQuota",
  "addAlias",
  "listAliases",
  "deleteAlias",
  "addDomainAlias",
  "deleteDomainAlias",
  "listDomainAliases",
  "queueList",
  "queueGet",
  "queueRetry",
  "queueDelete",
  "plugins",
  "reload",
] as const satisfies readonly (keyof AdminApi)[];

export function createAdminApi(parts: { store: Store; db: Db; spool: Spool; plugins: () => Promise<PluginReport>; reload?: () => Promise<ReloadReport> }): AdminApi {
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
    getQuota: async (address) => {
      const a = await store.getAccount(address);
      return a ? store.getQuota(a.id) : null;
    },
    setQuota: async (address, limits) => {
      const a = await store.getAccount(address);
      if (!a) return false;
      await store.setQuota(a.id, limits);
      return true;
    },
    addAlias: async (row, mode = "create") => {
      if (mode === "create" && (await getAlias(db, row.address))) return false;
      const list = (json: string | undefined): string[] | undefined => (json === undefined ? undefined : (JSON.parse(json) as string[]));
      const kind = row.kind === undefined ? undefined : row.kind === "group" ? "group" : "alias";
      await addAlias(db, { address: row.address, targets: list(row.targets) ?? [], kind, membersOnly: row.membersOnly, senders: list(row.senders) }, { replace: mode === "replace" });
      return true;
    },
    listAliases: () => db.orm.select().from(aliases).orderBy(aliases.address),
    deleteAlias: async (address, targets = []) => {
      try {
        await removeAlias(db, address, targets);
        return true;
      } catch (e) {
        if (e instanceof AliasAdminError && e.message.startsWith("no alias")) return false;
        throw e;
      }
    },
    addDomainAlias: (domain, target) => addDomainAlias(db, domain, target),
    deleteDomainAlias: (domain) => removeDomainAlias(db, domain),
    listDomainAliases: () => listDomainAliases(db),
    queueList: () => spool.list(),
    queueGet: (id) => spool.get(id),
    queueRetry: (id) => spool.retry(id),
    queueDelete: (id) => spool.delete(id),
    plugins: parts.plugins,
    reload:
      parts.reload ??
      (async () => {
        throw new Error("no server is running here: the config is read when it starts");
      }),
  };
}
