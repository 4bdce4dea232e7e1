// The admin operations behind the CLI's domain/user/queue/plugins/reload commands, plus
// every plugin's admin methods ("<plugin>.<method>", Plugin.admin). One implementation over
// the store and spool; the CLI calls it directly (core opened in admin mode) or through the
// control socket of a running server, which runs the same code on its own store so that
// sessions see the change (DESIGN.md).
import type { ReloadReport } from "../reload.ts";
import type { Spool, QueueEntry } from "../spool/types.ts";
import type { Quota, QuotaLimits, Store } from "../store/types.ts";
import type { AdminMethods } from "../types.ts";

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
  /** Disable (no login anywhere; mail still delivered) or enable; false when no account. */
  setDisabled(address: string, disabled: boolean): Promise<boolean>;
  /** RFC 9208 quota of an account: limits (null: none) and usage; null when no account. */
  getQuota(address: string): Promise<Quota | null>;
  /** Sets both limits (null: none); false when there is no such account. */
  setQuota(address: string, limits: QuotaLimits): Promise<boolean>;
  queueList(): Promise<QueueEntry[]>;
  queueGet(id: string): Promise<QueueEntry[]>;
  queueRetry(id: string): Promise<number>;
  queueDelete(id: string): Promise<number>;
  /** Give up on the waiting recipients now, with the failure notice (a running server). */
  queueBounce(id: string): Promise<number>;
  plugins(): Promise<PluginReport>;
  /** A plugin's admin method, "<plugin>.<method>" (see pluginAdmin for a typed view). */
  call(method: string, ...args: unknown[]): Promise<unknown>;
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
  "setDisabled",
  "getQuota",
  "setQuota",
  "queueList",
  "queueGet",
  "queueRetry",
  "queueDelete",
  "queueBounce",
  "plugins",
  "reload",
] as const satisfies readonly (keyof AdminApi)[];

/** A plugin method name: "<plugin>.<method>". */
export const isPluginMethod = (name: string): boolean => /^[\w-]+\.\w+$/.test(name);

export function createAdminApi(parts: {
  store: Store;
  spool: Spool;
  plugins: () => Promise<PluginReport>;
  methods: Map<string, AdminMethods[string]>;
  reload?: () => Promise<ReloadReport>;
}): AdminApi {
  const { store, spool, methods } = parts;
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
    setDisabled: (address, disabled) => store.setDisabled(address, disabled),
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
    queueList: () => spool.list(),
    queueGet: (id) => spool.get(id),
    queueRetry: (id) => spool.retry(id),
    queueDelete: (id) => spool.delete(id),
    queueBounce: (id) => spool.bounce(id),
    plugins: parts.plugins,
    async call(method, ...args) {
      const fn = methods.get(method) as ((...a: unknown[]) => Promise<unknown>) | undefined;
      if (!fn) throw new Error(`unknown admin method ${JSON.stringify(method)} (is its plugin disabled?)`);
      return fn(...args);
    },
    reload:
      parts.reload ??
      (async () => {
        throw new Error("no server is running here: the config is read when it starts");
      }),
  };
}

/** A plugin's admin methods as a typed object over an AdminApi (local or remote):
 *  `pluginAdmin<AliasesAdmin>(api, "aliases").add(…)` calls "aliases.add". */
export function pluginAdmin<M extends AdminMethods>(api: AdminApi, plugin: string): M {
  return new Proxy({} as M, {
    get: (_t, name) => (typeof name === "string" ? (...args: unknown[]) => api.call(`${plugin}.${name}`, ...args) : undefined),
  });
}
