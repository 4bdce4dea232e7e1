// Boot: config → database → store → hooks → TLS → spool → plugins → listeners; and the
// orderly stop (stop accepting, let sessions finish or abort them, close the database).
import { openBlobBackend } from "./store/blob-backend.ts";
import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import * as v from "valibot";
import { registerDefaultAuth } from "./auth.ts";
import { ConfigSchema, type Config } from "./config.ts";
import { openDb } from "./db/open.ts";
import { createHooks } from "./hooks.ts";
import { buildHttpApp, serveHttp, serveMetrics } from "./http.ts";
import { observeCore } from "./metrics.ts";
import { createListenerSet } from "./listen.ts";
import { createLogger } from "./log.ts";
import { ConfigError, describeIssues, importPluginDir, resolvePlugins, setupPlugins, type Shutdown } from "./plugins.ts";
import { registerDefaultRouting } from "./route.ts";
import { applyReload, type Reloadable, type ReloadReport } from "./reload.ts";
import { createSpool } from "./spool/index.ts";
import { createStore } from "./store/index.ts";
import { createTls } from "./tls.ts";
import type { Core, Listener, Logger, Plugin } from "./types.ts";
import { builtinPlugins } from "../plugins/index.ts";

export type DeepPartial<T> = T extends (infer U)[] ? U[] : T extends object ? { [K in keyof T]?: DeepPartial<T[K]> } : T;

export interface StartOptions {
  dataDir: string;
  /** A resolved config (from core/config-file.ts) or a partial one merged over the defaults. */
  config?: DeepPartial<Config> & Record<string, unknown>;
  plugins?: Plugin[];
  /** Also load extra plugins from the plugins folder (default true). */
  loadPluginDir?: boolean;
  portOffset?: number;
  listenAddress?: string;
  log?: Logger;
  /** Print the start-up banner on stdout. */
  banner?: boolean;
}

export interface RunningServer {
  core: Core;
  listeners: Listener[];
  /** Bound port of a listener by name ("smtp", "imaps" …). */
  port(name: string): number;
  /** Apply a new config (validated whole first; throws ConfigError and changes nothing). */
  reload(next: Config): ReloadReport;
  stop(): Promise<void>;
}

/** Validate a (partial) config against the schema; throws ConfigError naming the key. */
export function parseConfig(input: unknown): Config {
  const r = v.safeParse(ConfigSchema, input ?? {});
  if (!r.success) throw new ConfigError(`config error: ${describeIssues("", r.issues)}`);
  return r.output;
}

/** Offset used when the process may not bind privileged ports (DESIGN.md). */
export const UNPRIVILEGED_OFFSET = 10000;

function defaultOffset(log: Logger): number {
  if (process.getuid?.() === 0) return 0;
  log.warn(`not running as root: ports below 1024 are not available, using port offset ${UNPRIVILEGED_OFFSET}`);
  return UNPRIVILEGED_OFFSET;
}

export async function startServer(opts: StartOptions): Promise<RunningServer> {
  const dataDir = resolve(opts.dataDir);
  const config = parseConfig(opts.config);
  const log = opts.log ?? createLogger(config.log.level, {}, undefined, config.log.format);
  mkdirSync(dataDir, { recursive: true });

  const db = await openDb({
    url: config.database.url || `file:${join(dataDir, "kotakpos.db")}`,
    authToken: config.database.authToken || undefined,
    log,
    onBackup: (path) => log.warn("the database schema is being upgraded: backed up the database first", { path }),
  });
  const shutdowns: Shutdown[] = [async () => db.close()];
  const stopAll = async () => {
    for (const fn of shutdowns.splice(0).reverse()) {
      try {
        await fn();
      } catch (err) {
        log.error("shutdown step failed", { err: (err as Error).message });
      }
    }
  };
  try {
    const store = await createStore({ db, blobs: await openBlobBackend(config, dataDir), log });
    shutdowns.push(() => store.close());
    const hooks = createHooks(log);
    const limiter = registerDefaultAuth(hooks, store, { db, maxFailuresPerIp: config.auth.maxFailuresPerIp, log });
    shutdowns.push(() => limiter.close());
    registerDefaultRouting(hooks, store);
    const tls = await createTls({ db, hooks, log, hostname: config.hostname, certFile: config.tls.certFile, keyFile: config.tls.keyFile });
    shutdowns.push(() => tls.close());
    const spool = createSpool({ db, store, config, log, hooks, hostname: config.hostname });
    shutdowns.push(() => spool.stop());
    const portOffset = opts.portOffset ?? config.listen.portOffset ?? defaultOffset(log);
    const address = opts.listenAddress ?? config.listen.address;
    const listeners = createListenerSet({
      address,
      portOffset,
      maxPerIp: config.listen.maxConnectionsPerIp,
      maxConnections: config.listen.maxConnections,
      tlsHandshakeTimeoutMs: config.listen.tlsHandshakeSeconds * 1000,
      log,
      tls,
    });
    shutdowns.push(() => listeners.shutdown(config.listen.shutdownGraceSeconds * 1000));
    const closing = new AbortController();
    const core: Core = {
      config,
      dataDir,
      log,
      hooks,
      store,
      spool,
      db,
      tls,
      closing: closing.signal,
      listen: (spec) => {
        // [listen.ports] may move a standard port; 0 there means any free port.
        const std = (config.listen.ports as Record<string, number>)[spec.name];
        return listeners.listen({ ...spec, port: std ?? spec.port });
      },
      onShutdown: (fn) => void shutdowns.push(fn),
    };
    shutdowns.push(() => closing.abort());

    const extras = opts.loadPluginDir === false ? [] : await importPluginDir(config.plugins.dir || join(dataDir, "plugins"));
    const plugins = resolvePlugins(opts.plugins ?? builtinPlugins, extras, config.plugins.disabled);
    const setUp: Reloadable["plugins"] = [];
    shutdowns.push(...(await setupPlugins(core, plugins, (plugin, cfg) => setUp.push({ plugin, config: cfg }))));
    const ports = config.listen.ports;
    const app = await buildHttpApp(core);
    for (const l of await serveHttp(core, app, { address, http: listeners.portFor(ports.http), https: listeners.portFor(ports.https) })) listeners.adopt(l);
    observeCore(core);
    if (config.metrics.listen) listeners.adopt(serveMetrics(config.metrics.listen));
    spool.start();

    const server: RunningServer = {
      core,
      listeners: listeners.listeners,
      port(name) {
        const l = listeners.listeners.find((x) => x.name === name);
        if (!l) throw new Error(`no listener named ${name}`);
        return l.port;
      },
      reload(next) {
        const report = applyReload({ config, plugins: setUp }, next);
        log.info("config reloaded", { changed: report.changed.join(",") || "nothing", needsRestart: report.needsRestart.join(",") || undefined });
        return report;
      },
      stop: stopAll,
    };
    if (opts.banner) printBanner(server, config, dataDir, plugins, await startHints(core));
    log.info("ready", { listeners: listeners.listeners.map((l) => `${l.name}:${l.port}`).join(",") });
    return server;
  } catch (err) {
    await stopAll();
    throw err;
  }
}

/** What a new admin should do next, shown under the banner. */
async function startHints(core: Core): Promise<string[]> {
  const hints: string[] = [];
  if (core.db.readOnly) hints.push(`DISK FULL — ${core.db.readOnly}. Mail is refused (SMTP 452) and nothing can be changed; reading mail works. Free space and kotakpos resumes by itself.`);
  if (!core.config.hostname.includes(".")) hints.push(`hostname "${core.config.hostname}" is not a full DNS name: set hostname in ${join(core.dataDir, "kotakpos.toml")}`);
  if ((await core.store.listDomains()).length === 0) hints.push("no mail domain yet: kotakpos domain add example.com && kotakpos user add you@example.com");
  hints.push(`admin API token: ${join(core.dataDir, "admin.token")}`);
  return hints;
}

function printBanner(s: RunningServer, config: Config, dataDir: string, plugins: Plugin[], hints: string[]): void {
  const lines = [`kotakpos ready — ${config.hostname}`, `  data directory  ${dataDir}`, `  plugins         ${plugins.map((p) => p.name).join(", ") || "(none)"}`];
  for (const l of s.listeners) lines.push(`  ${l.name.padEnd(15)} ${l.address}:${l.port}`);
  const http = s.listeners.find((l) => l.name === "http" || l.name === "https");
  if (http) lines.push(`  web             ${http.name}://${config.hostname}:${http.port}/`);
  for (const h of hints) lines.push(`  → ${h}`);
  process.stdout.write(lines.join("\n") + "\n");
}
