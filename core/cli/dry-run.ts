// `kotakpos plugins` without a running server: each plugin's setup runs against the real
// database and store, with a `listen` that binds nothing and a spool never started, to
// report the resolved hook order.
import { registerDefaultAuth } from "../auth.ts";
import type { Config } from "../config.ts";
import type { PluginReport } from "../control/api.ts";
import type { Db } from "../db/open.ts";
import { createHooks } from "../hooks.ts";
import { resolvePlugins, setupPlugins } from "../plugins.ts";
import { registerDefaultRouting } from "../route.ts";
import { createSpool } from "../spool/index.ts";
import type { Store } from "../store/types.ts";
import type { Core, Listener, Logger, Plugin, Tls } from "../types.ts";

const noTls: Tls = {
  certificateFor: () => Promise.reject(new Error("no TLS in a dry run")),
  certificates: () => Promise.reject(new Error("no TLS in a dry run")),
  changed: () => {},
  onChange: () => () => {},
};

export async function dryRunPlugins(opts: { config: Config; plugins: Plugin[]; db: Db; store: Store; log: Logger; dataDir: string }): Promise<PluginReport> {
  const { config, db, store, log } = opts;
  const plugins = resolvePlugins(opts.plugins, [], config.plugins.disabled);
  const hooks = createHooks(log);
  registerDefaultAuth(hooks, store, { db, maxFailuresPerIp: config.auth.maxFailuresPerIp, log }).close();
  registerDefaultRouting(hooks, store);
  const closing = new AbortController();
  const listeners: string[] = [];
  const shutdowns: (() => void | Promise<void>)[] = [];
  const core: Core = {
    config,
    dataDir: opts.dataDir,
    log,
    hooks,
    store,
    db,
    tls: noTls,
    spool: createSpool({ db, store, config, log, hooks }),
    closing: closing.signal,
    async listen(spec): Promise<Listener> {
      listeners.push(`${spec.name}:${spec.port}`);
      return { name: spec.name, port: spec.port, address: config.listen.address, close: async () => {} };
    },
    onShutdown: (fn) => void shutdowns.push(fn),
  };
  shutdowns.push(...(await setupPlugins(core, plugins)));
  closing.abort();
  for (const fn of shutdowns.reverse()) await fn();
  return {
    plugins: plugins.map((p) => p.name),
    disabled: opts.plugins.filter((p) => config.plugins.disabled.includes(p.name)).map((p) => p.name),
    listeners,
    hooks: hooks.list(),
    live: false,
  };
}
