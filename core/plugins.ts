// The plugin loader: built-ins (plugins/index.ts) then extra plugins from the plugins
// folder (plain .ts/.js files, also loaded by the compiled binary), each configured from its
// own `[name]` section of the config and enabled unless listed in plugins.disabled.
import { existsSync, readdirSync } from "node:fs";
import { join, resolve } from "node:path";
import * as v from "valibot";
import { Hono } from "hono";
import { positionals } from "./cli/args.ts";
import { withAdmin } from "./cli/context.ts";
import { CommandError, UsageError } from "./cli/errors.ts";
import { pluginAdmin } from "./control/api.ts";
import { hooksFor } from "./hooks.ts";
import { ConfigError } from "./config.ts";
import * as api from "./types.ts";
import type { Core, Plugin } from "./types.ts";

export type Shutdown = () => void | Promise<void>;

/** A plugin in use with its validated config section. */
export interface ActivePlugin {
  plugin: Plugin;
  config: unknown;
}

/** "key.path = value: message" for the first issues of a failed parse. */
export function describeIssues(section: string, issues: readonly v.BaseIssue<unknown>[]): string {
  return issues
    .slice(0, 3)
    .map((i) => {
      const path = [section, v.getDotPath(i)].filter(Boolean).join(".");
      return `${path} = ${JSON.stringify(i.input)}: ${i.message}`;
    })
    .join("; ");
}

function isPlugin(x: unknown): x is Plugin {
  return typeof x === "object" && x !== null && typeof (x as Plugin).name === "string" && typeof (x as Plugin).setup === "function";
}

let modulesRegistered = false;
/** Modules an extra plugin may import by bare name, also from the compiled binary where no
 *  node_modules sit next to it: `import { definePlugin, pass, reject, v, Hono, withAdmin,
 *  pluginAdmin, positionals, CommandError, UsageError } from "kotakpos"`
 *  and `import * as v from "valibot"`. Both resolve to the copies built into kotakpos, so a
 *  plugin's schema is checked by the same valibot as the core's. */
export function registerPluginModules(): void {
  if (modulesRegistered) return;
  modulesRegistered = true;
  Bun.plugin({
    name: "kotakpos-plugin-modules",
    setup(build) {
      build.module("valibot", () => ({ exports: { ...v }, loader: "object" }));
      build.module("kotakpos", () => ({
        exports: {
          definePlugin: api.definePlugin,
          pass: api.pass,
          accept: api.accept,
          reject: api.reject,
          defer: api.defer,
          disconnect: api.disconnect,
          v,
          // For Plugin.commands and Plugin.adminRoutes.
          Hono,
          withAdmin,
          pluginAdmin,
          positionals,
          CommandError,
          UsageError,
        },
        loader: "object",
      }));
    },
  });
}

/** Import every .ts/.js file of the folder (sorted by name) that exports a plugin. */
export async function importPluginDir(dir: string): Promise<Plugin[]> {
  if (!dir || !existsSync(dir)) return [];
  registerPluginModules();
  const out: Plugin[] = [];
  for (const f of readdirSync(dir).sort()) {
    if (!/\.(ts|js|mjs)$/.test(f) || f.endsWith(".test.ts") || f.endsWith(".d.ts")) continue;
    const path = resolve(join(dir, f));
    const mod = (await import(path)) as { default?: unknown; plugin?: unknown };
    const p = mod.default ?? mod.plugin;
    if (!isPlugin(p)) throw new Error(`${path} does not export a plugin (default export with name and setup)`);
    out.push(p);
  }
  return out;
}

/** The plugins to run: built-ins then extras, minus the disabled ones; names must be unique. */
export function resolvePlugins(builtins: Plugin[], extras: Plugin[], disabled: string[]): Plugin[] {
  const seen = new Set<string>();
  const out: Plugin[] = [];
  for (const p of [...builtins, ...extras]) {
    if (seen.has(p.name)) throw new Error(`two plugins are named "${p.name}"`);
    seen.add(p.name);
    if (!disabled.includes(p.name)) out.push(p);
  }
  return out;
}

/** Validate every plugin's config section (nothing starts on a config error). */
export function configurePlugins(config: object, plugins: Plugin[]): ActivePlugin[] {
  const raw = config as Record<string, unknown>;
  return plugins.map((plugin) => {
    if (!plugin.config) return { plugin, config: undefined };
    const r = v.safeParse(plugin.config, raw[plugin.name] ?? {});
    if (!r.success) throw new ConfigError(`config error: ${describeIssues(plugin.name, r.issues)}`);
    return { plugin, config: r.output };
  });
}

/** Run each plugin's setup in order, on a Core whose hooks and log carry its name. */
export async function setupPlugins(core: Core, active: ActivePlugin[]): Promise<Shutdown[]> {
  const shutdowns: Shutdown[] = [];
  for (const { plugin: p, config } of active) {
    const scoped: Core = Object.create(core, {
      hooks: { value: hooksFor(core.hooks, p.name) },
      log: { value: core.log.child({ plugin: p.name }) },
    });
    const stop = await p.setup(scoped, config);
    if (typeof stop === "function") shutdowns.push(stop);
    core.log.debug("plugin ready", { plugin: p.name });
  }
  return shutdowns;
}
