// What every command shares: where the data lives, the validated config, and the admin
// operations — through the running server's control socket when it answers (so sessions
// see the change), else on the database opened directly (WAL makes that safe).
import { openBlobBackend } from "../store/blob-backend.ts";
import { join, resolve } from "node:path";
import type { Config } from "../config.ts";
import { loadConfig } from "../config-file.ts";
import { createAdminApi, type AdminApi } from "../control/api.ts";
import { connectControl, ControlCallError } from "../control/client.ts";
import { CONTROL_SOCKET_NAME } from "../control/protocol.ts";
import { openDb } from "../db/open.ts";
import { createLogger } from "../log.ts";
import { importPluginDir } from "../plugins.ts";
import { createHooks } from "../hooks.ts";
import { createSpool } from "../spool/index.ts";
import { createStore } from "../store/index.ts";
import type { Plugin } from "../types.ts";
import { builtinPlugins } from "../../plugins/index.ts";
import { str, type Parsed } from "./args.ts";
import { dryRunPlugins } from "./dry-run.ts";
import { CommandError } from "./errors.ts";
import type { Io } from "./io.ts";

export interface Globals {
  dataDir: string;
  configFile?: string;
}

export interface Ctx {
  io: Io;
  globals: Globals;
}

/** --data, else $KOTAKPOS_DATA, else ./data; --config, else $KOTAKPOS_CONFIG. */
export function globalsOf(p: Parsed, env: Record<string, string | undefined>): Globals {
  const dataDir = resolve(str(p, "data") ?? (env.KOTAKPOS_DATA || "data"));
  const cfg = str(p, "config") ?? (env.KOTAKPOS_CONFIG || undefined);
  return { dataDir, configFile: cfg ? resolve(cfg) : undefined };
}

export const controlSocketPath = (dataDir: string): string => join(dataDir, CONTROL_SOCKET_NAME);

export interface LoadedConfig {
  config: Config;
  /** Built-in plugins plus the extra ones from the plugins folder. */
  plugins: Plugin[];
}

/** Load and validate the config with every plugin's section (built-in and extra), so a
 *  bad value anywhere stops the command before anything starts. */
export async function loadCliConfig(ctx: Ctx, overrides?: Parameters<typeof loadConfig>[0]["overrides"]): Promise<LoadedConfig> {
  const base = { dataDir: ctx.globals.dataDir, configFile: ctx.globals.configFile, overrides, env: ctx.io.env };
  // First pass: core keys and built-ins (also writes the default file on first start);
  // it tells where the extra plugins live.
  const warnings: string[] = [];
  const first = await loadConfig({ ...base, plugins: builtinPlugins, warn: (m) => warnings.push(m) });
  const extras = await importPluginDir(first.plugins.dir || join(ctx.globals.dataDir, "plugins"));
  const plugins = [...builtinPlugins, ...extras];
  const config = extras.length ? await loadConfig({ ...base, plugins, writeDefault: false, warn: (m) => ctx.io.err(m + "\n") }) : first;
  if (!extras.length) for (const w of warnings) ctx.io.err(w + "\n");
  return { config, plugins };
}

/** Run fn on the admin API: the running server's when it answers, else a direct one. */
export async function withAdmin<T>(ctx: Ctx, fn: (api: AdminApi) => Promise<T>): Promise<T> {
  const { config, plugins } = await loadCliConfig(ctx);
  const remote = await connectControl(controlSocketPath(ctx.globals.dataDir));
  if (remote) {
    try {
      return await fn(remote);
    } catch (e) {
      // The server's refusal (e.g. a store error) is the command's failure: exit 1.
      throw e instanceof ControlCallError ? new CommandError(e.message) : e;
    } finally {
      remote.close();
    }
  }
  const dataDir = ctx.globals.dataDir;
  const log = createLogger(config.log.level === "debug" ? "debug" : "warn");
  const db = await openDb({ url: config.database.url || `file:${join(dataDir, "kotakpos.db")}`, authToken: config.database.authToken || undefined });
  try {
    const store = await createStore({ db, blobs: await openBlobBackend(config, dataDir), log });
    // The spool's scheduler is never started here: queue commands only read and mark rows.
    const spool = createSpool({ db, store, config, log, hooks: createHooks(log) });
    const api = createAdminApi({ store, db, spool, plugins: () => dryRunPlugins({ config, plugins, db, store, log, dataDir }) });
    return await fn(api);
  } finally {
    await db.close();
  }
}
