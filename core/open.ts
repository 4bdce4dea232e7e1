// openCore: the one place a Core is assembled — config → database → store → hooks (with
// the core's defaults) → TLS → spool → plugins — for each way the program runs:
//   serve    listeners bound, plugins set up, HTTP served, the spool's scheduler running;
//   admin    database, store and spool only (CLI admin commands without a server): no
//            plugin setup, no listener; the plugins' admin methods are ready;
//   dry-run  the plugins set up against the real database with a `listen` that binds
//            nothing, to report the resolved hook order (`kotakpos plugins`).
import { mkdirSync } from "node:fs";
import { resolve } from "node:path";
import * as v from "valibot";
import { registerDefaultAuth } from "./auth.ts";
import { ConfigError, ConfigSchema, type Config } from "./config.ts";
import type { DeepPartial } from "./config-file.ts";
import { createAdminApi, type AdminApi, type PluginReport } from "./control/api.ts";
import { openDb } from "./db/open.ts";
import { createHooks } from "./hooks.ts";
import { buildHttpApp, serveHttp, serveMetrics } from "./http.ts";
import type { MethodTable } from "./http-admin.ts";
import { observeCore } from "./metrics.ts";
import { createListenerSet } from "./listen.ts";
import { createLogger } from "./log.ts";
import { dataPaths, type DataPaths } from "./paths.ts";
import { configurePlugins, describeIssues, importPluginDir, resolvePlugins, setupPlugins, type ActivePlugin, type Shutdown } from "./plugins.ts";
import { registerDefaultRouting } from "./route.ts";
import { createSpool } from "./spool/index.ts";
import { openBlobBackend } from "./store/blob-backend.ts";
import { createLeases, instanceName, workerLeases } from "./lease.ts";
import type { ProcessRole } from "./procs.ts";
import { createStore } from "./store/index.ts";
import { createTls } from "./tls.ts";
import type { Store } from "./store/types.ts";
import type { Db } from "./db/open.ts";
import type { AdminMethods, Core, Hooks, Listener, Logger, Plugin, Tls } from "./types.ts";

export type { DeepPartial };

export type CoreMode = "serve" | "admin" | "dry-run";

export interface OpenCoreOptions {
  dataDir: string;
  /** A resolved config (core/config-file.ts) or a partial one merged over the defaults. */
  config?: DeepPartial<Config> & Record<string, unknown>;
  mode: CoreMode;
  /** Every plugin known (built-in and extra); those in plugins.disabled are left out. */
  plugins: Plugin[];
  /** Also import the extra plugins of the plugins folder (the CLI has loaded them already). */
  loadPluginDir?: boolean;
  portOffset?: number;
  listenAddress?: string;
  log?: Logger;
  /** dry-run: runs with the plugins set up, before they shut down (a command that needs
   *  their hooks without a server, e.g. `kotakpos check`). */
  use?: (core: Core) => Promise<void>;
  /** serve: one of several processes on this data directory (core/procs.ts); default: the only one. */
  processes?: ProcessRole;
}

export interface OpenedCore {
  core: Core;
  paths: DataPaths;
  /** The plugins in use, in order, with their validated config sections. */
  plugins: ActivePlugin[];
  /** Names of the known plugins left out by plugins.disabled. */
  disabled: string[];
  /** Bound listeners (serve), or the ones the plugins asked for (dry-run, port 0 unbound). */
  listeners: Listener[];
  /** The admin operations: the core's and every plugin's "<plugin>.<method>". */
  admin: AdminApi;
  close(): Promise<void>;
}

/** Validate a (partial) config against the schema; throws ConfigError naming the key. */
export function parseConfig(input: unknown): Config {
  const r = v.safeParse(ConfigSchema, input ?? {});
  if (!r.success) throw new ConfigError(`config error: ${describeIssues("", r.issues)}`);
  return r.output;
}

/** On an embedded database shared by several processes, the change feed polls at least
 *  this often (one indexed read of the accounts' modseqs on a local file). */
const LOCAL_CHANGE_POLL_MS = 100;

/** Offset used when the process may not bind privileged ports (DESIGN.md). */
export const UNPRIVILEGED_OFFSET = 10000;

function defaultOffset(log: Logger): number {
  if (process.getuid?.() === 0) return 0;
  log.warn(`not running as root: ports below 1024 are not available, using port offset ${UNPRIVILEGED_OFFSET}`);
  return UNPRIVILEGED_OFFSET;
}

const noTls: Tls = {
  certificateFor: () => Promise.reject(new Error("no TLS outside serve")),
  certificates: () => Promise.reject(new Error("no TLS outside serve")),
  changed: () => {},
  onChange: () => () => {},
};

/** Run shutdown steps in reverse order; a failing step is logged, the rest still run. */
function shutdownList(log: Logger) {
  const steps: Shutdown[] = [];
  return {
    push: (...fns: Shutdown[]) => void steps.push(...fns),
    async run() {
      for (const fn of steps.splice(0).reverse()) {
        try {
          await fn();
        } catch (err) {
          log.error("shutdown step failed", { err: (err as Error).message });
        }
      }
    },
  };
}

/** The plugins' admin methods by "<plugin>.<method>". */
function pluginMethods(core: Core, active: ActivePlugin[]): Map<string, AdminMethods[string]> {
  const out = new Map<string, AdminMethods[string]>();
  for (const { plugin, config } of active) {
    if (!plugin.admin) continue;
    const scoped: Core = Object.create(core, { log: { value: core.log.child({ plugin: plugin.name }) } });
    for (const [name, fn] of Object.entries(plugin.admin(scoped, config))) out.set(`${plugin.name}.${name}`, fn);
  }
  return out;
}

type CoreParts = Omit<Core, "listen" | "onShutdown" | "closing">;

/** Hooks with the core's defaults (auth with its login limiter, routing) registered
 *  behind every plugin's; `close` stops the limiter. */
function coreHooks(log: Logger, db: Db, store: Store, config: Config): { hooks: Hooks; close(): void | Promise<void> } {
  const hooks = createHooks(log);
  const limiter = registerDefaultAuth(hooks, store, { db, maxFailuresPerIp: config.auth.maxFailuresPerIp, log });
  registerDefaultRouting(hooks, store);
  return { hooks, close: () => limiter.close() };
}

/** Set the plugins up on a Core whose `listen` binds nothing, then shut them down again. */
async function dryRun(parts: CoreParts, active: ActivePlugin[], disabled: string[], use?: (core: Core) => Promise<void>): Promise<PluginReport> {
  const asked: string[] = [];
  const shutdowns = shutdownList(parts.log);
  const closing = new AbortController();
  const core: Core = {
    ...parts,
    closing: closing.signal,
    async listen(spec) {
      asked.push(`${spec.name}:${spec.port}`);
      return { name: spec.name, port: spec.port, address: parts.config.listen.address, close: async () => {} };
    },
    onShutdown: (fn) => shutdowns.push(fn),
  };
  shutdowns.push(() => closing.abort());
  try {
    shutdowns.push(...(await setupPlugins(core, active)));
    await use?.(core);
  } finally {
    await shutdowns.run();
  }
  return { plugins: active.map((a) => a.plugin.name), disabled, listeners: asked, hooks: parts.hooks.list(), live: false };
}

export async function openCore(opts: OpenCoreOptions): Promise<OpenedCore> {
  const dataDir = resolve(opts.dataDir);
  const config = parseConfig(opts.config);
  const serving = opts.mode === "serve";
  const role: ProcessRole = serving && opts.processes ? opts.processes : { count: 1 };
  const worker = role.worker;
  // Several processes' lines in one log: each names its pid.
  const log = opts.log ?? createLogger(serving || config.log.level === "debug" ? config.log.level : "warn", role.count > 1 ? { pid: process.pid } : {}, undefined, config.log.format);
  const paths = dataPaths(dataDir, config);
  if (serving) mkdirSync(dataDir, { recursive: true });
  const extras = opts.loadPluginDir ? await importPluginDir(paths.pluginDir) : [];
  const known = [...opts.plugins, ...extras];
  const active = configurePlugins(config, resolvePlugins(known, [], config.plugins.disabled));
  const disabled = known.filter((p) => config.plugins.disabled.includes(p.name)).map((p) => p.name);

  const db = await openDb({
    url: paths.databaseUrl,
    authToken: paths.databaseAuthToken,
    log,
    shared: role.count > 1,
    onBackup: (path) => log.warn("the database schema is being upgraded: backed up the database first", { path }),
  });
  const shutdowns = shutdownList(log);
  shutdowns.push(async () => db.close());
  try {
    // Others write this database too: instances on a libSQL server, or our sibling processes.
    const clustered = !db.local || role.count > 1;
    const owner = instanceName(config.hostname);
    const leases = worker ? workerLeases(owner) : createLeases(db, owner);
    shutdowns.push(() => leases.releaseAll().catch(() => {}));
    // Blob GC is a singleton job: with S3 shared, one instance collects at a time.
    const store = await createStore({ db, blobs: await openBlobBackend(config, dataDir), log, othersWrite: clustered, singleton: (name, ttlMs) => leases.hold(name, ttlMs) });
    shutdowns.push(() => store.close());
    // Another instance or process may write the same database: follow its mailbox changes.
    if (serving && clustered && config.cluster.changePollMs > 0) store.followOthers(db.local ? Math.min(config.cluster.changePollMs, LOCAL_CHANGE_POLL_MS) : config.cluster.changePollMs);
    const defaults = coreHooks(log, db, store, config);
    shutdowns.push(() => defaults.close());
    const hooks = defaults.hooks;
    let tls: Tls = noTls;
    if (serving) {
      const t = await createTls({ db, hooks, log, hostname: config.hostname, certFile: config.tls.certFile, keyFile: config.tls.keyFile });
      shutdowns.push(() => t.close());
      tls = t;
    }
    // Outside serve the spool's scheduler never starts: queue commands only read and mark rows.
    const spool = createSpool({ db, store, config, log, hooks, hostname: config.hostname, owner: leases.owner, clustered });
    shutdowns.push(() => spool.stop());
    const parts: CoreParts = { config, dataDir, log, hooks, store, spool, db, tls, leases };

    const portOffset = opts.portOffset ?? config.listen.portOffset ?? (serving ? defaultOffset(log) : 0);
    const address = opts.listenAddress ?? config.listen.address;
    const listenerSet = serving
      ? createListenerSet({
          address,
          portOffset,
          maxPerIp: config.listen.maxConnectionsPerIp,
          maxConnections: config.listen.maxConnections,
          tlsHandshakeTimeoutMs: config.listen.tlsHandshakeSeconds * 1000,
          allowPlaintextOnLoopback: () => config.auth.allowPlaintextOnLoopback,
          log,
          tls,
          reusePort: role.count > 1,
          ports: worker?.ports,
        })
      : null;
    if (listenerSet) shutdowns.push(() => listenerSet.shutdown(config.listen.shutdownGraceSeconds * 1000));
    const closing = new AbortController();
    const core: Core = {
      ...parts,
      closing: closing.signal,
      listen: (spec) => {
        if (!listenerSet) return Promise.reject(new Error(`${spec.name}: no listeners outside serve`));
        // [listen.ports] may move a standard port; 0 there means any free port.
        const std = (config.listen.ports as Record<string, number>)[spec.name];
        return listenerSet.listen({ ...spec, port: std ?? spec.port });
      },
      onShutdown: (fn) => shutdowns.push(fn),
    };
    shutdowns.push(() => closing.abort());

    const methods = pluginMethods(core, active);
    let listeners: Listener[] = [];
    let report: () => Promise<PluginReport>;
    if (listenerSet) {
      shutdowns.push(...(await setupPlugins(core, active)));
      const ports = config.listen.ports;
      // HTTP (console, JMAP, webmail, ACME answers) and the metrics listener: the primary only.
      if (!worker) {
        const app = await buildHttpApp(core, active, methods as MethodTable);
        for (const l of await serveHttp(core, app, { address, http: listenerSet.portFor(ports.http), https: listenerSet.portFor(ports.https) })) listenerSet.adopt(l);
      }
      observeCore(core);
      if (config.metrics.listen && !worker) listenerSet.adopt(serveMetrics(config.metrics.listen));
      spool.start();
      listeners = listenerSet.listeners;
      report = async () => ({ plugins: active.map((a) => a.plugin.name), disabled, listeners: listeners.map((l) => `${l.name}:${l.port}`), hooks: hooks.list(), live: true });
    } else if (opts.mode === "dry-run") {
      const r = await dryRun({ ...parts, hooks }, active, disabled, opts.use);
      listeners = r.listeners.map((l) => ({ name: l.slice(0, l.lastIndexOf(":")), port: Number(l.slice(l.lastIndexOf(":") + 1)), address, close: async () => {} }));
      report = async () => r;
    } else {
      // No plugin ran its setup here: a dry run with fresh hooks tells the order.
      report = async () => {
        const fresh = coreHooks(log, db, store, config);
        try {
          return await dryRun({ ...parts, hooks: fresh.hooks }, active, disabled);
        } finally {
          await fresh.close();
        }
      };
    }
    const admin = createAdminApi({ store, spool, plugins: report, methods });
    return { core, paths, plugins: active, disabled, listeners, admin, close: () => shutdowns.run() };
  } catch (err) {
    await shutdowns.run();
    throw err;
  }
}
