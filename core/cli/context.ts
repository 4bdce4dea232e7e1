// What every command shares: where the data lives, the plugins, the validated config, and
// the admin operations — through the running server's control socket when it answers (so
// sessions see the change), else on a core opened in admin mode (WAL makes that safe).
import { resolve } from "node:path";
import type { Config } from "../config.ts";
import { loadConfig } from "../config-file.ts";
import type { AdminApi } from "../control/api.ts";
import { connectControl, ControlCallError } from "../control/client.ts";
import { openCore, type OpenedCore } from "../open.ts";
import { controlSocketIn, dataPaths } from "../paths.ts";
import { importPluginDir } from "../plugins.ts";
import type { Plugin } from "../types.ts";
import { str, type Parsed } from "./args.ts";
import { CommandError } from "./errors.ts";
import type { Io } from "./io.ts";

export interface Globals {
  dataDir: string;
  configFile?: string;
}

export interface Ctx {
  io: Io;
  globals: Globals;
  /** The built-in plugins, from the composition root (main.ts). */
  builtins: Plugin[];
}

/** --data, else $KOTAKPOS_DATA, else ./data; --config, else $KOTAKPOS_CONFIG. */
export function globalsOf(p: Parsed, env: Record<string, string | undefined>): Globals {
  const dataDir = resolve(str(p, "data") ?? (env.KOTAKPOS_DATA || "data"));
  const cfg = str(p, "config") ?? (env.KOTAKPOS_CONFIG || undefined);
  return { dataDir, configFile: cfg ? resolve(cfg) : undefined };
}

export const controlSocketPath = controlSocketIn;

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
  const first = await loadConfig({ ...base, plugins: ctx.builtins, warn: (m) => warnings.push(m) });
  const extras = await importPluginDir(dataPaths(ctx.globals.dataDir, first).pluginDir);
  const plugins = [...ctx.builtins, ...extras];
  const config = extras.length ? await loadConfig({ ...base, plugins, writeDefault: false, warn: (m) => ctx.io.err(m + "\n") }) : first;
  if (!extras.length) for (const w of warnings) ctx.io.err(w + "\n");
  return { config, plugins };
}

/** Run fn on a core opened in admin mode (database, store, spool; no listener). */
export async function withCore<T>(ctx: Ctx, fn: (opened: OpenedCore) => Promise<T>, loaded?: LoadedConfig): Promise<T> {
  const { config, plugins } = loaded ?? (await loadCliConfig(ctx));
  const opened = await openCore({ dataDir: ctx.globals.dataDir, config, mode: "admin", plugins });
  try {
    return await fn(opened);
  } finally {
    await opened.close();
  }
}

/** Run fn on the admin API: the running server's when it answers, else a direct one. */
export async function withAdmin<T>(ctx: Ctx, fn: (api: AdminApi) => Promise<T>): Promise<T> {
  const loaded = await loadCliConfig(ctx);
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
  return withCore(ctx, (opened) => fn(opened.admin), loaded);
}
