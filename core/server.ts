// `serve`: the core opened in serve mode (core/open.ts: config → database → store → hooks →
// TLS → spool → plugins → listeners), the banner, config reload, and the orderly stop.
import type { Config } from "./config.ts";
import type { AdminApi } from "./control/api.ts";
import { openCore, type DeepPartial } from "./open.ts";
import { adminTokenIn, configFileIn } from "./paths.ts";
import { applyReload, type ReloadReport } from "./reload.ts";
import type { ProcessRole } from "./procs.ts";
import type { Core, Listener, Logger, Plugin } from "./types.ts";

export { parseConfig, UNPRIVILEGED_OFFSET, type DeepPartial } from "./open.ts";

export interface StartOptions {
  dataDir: string;
  /** A resolved config (from core/config-file.ts) or a partial one merged over the defaults. */
  config?: DeepPartial<Config> & Record<string, unknown>;
  /** The plugins (the composition root passes the built-ins, plus the extras it loaded). */
  plugins: Plugin[];
  /** Also load extra plugins from the plugins folder (default true). */
  loadPluginDir?: boolean;
  portOffset?: number;
  listenAddress?: string;
  log?: Logger;
  /** Print the start-up banner on stdout. */
  banner?: boolean;
  /** One of several serving processes (core/procs.ts); default: the only one. */
  processes?: ProcessRole;
  /** Runs once listening, before the banner (the primary starts its workers); the lines
   *  it returns go under the listeners in the banner. */
  onListening?: (server: RunningServer) => Promise<string[]>;
}

export interface RunningServer {
  core: Core;
  listeners: Listener[];
  /** The admin operations of this server (the control socket serves them). */
  admin: AdminApi;
  /** Bound port of a listener by name ("smtp", "imaps" …). */
  port(name: string): number;
  /** Apply a new config (validated whole first; throws ConfigError and changes nothing). */
  reload(next: Config): ReloadReport;
  stop(): Promise<void>;
}

export async function startServer(opts: StartOptions): Promise<RunningServer> {
  const opened = await openCore({ ...opts, mode: "serve", loadPluginDir: opts.loadPluginDir ?? true });
  const { core, listeners } = opened;
  const server: RunningServer = {
    core,
    listeners,
    admin: opened.admin,
    port(name) {
      const l = listeners.find((x) => x.name === name);
      if (!l) throw new Error(`no listener named ${name}`);
      return l.port;
    },
    reload(next) {
      const report = applyReload({ config: core.config, plugins: opened.plugins }, next);
      core.log.info("config reloaded", { changed: report.changed.join(",") || "nothing", needsRestart: report.needsRestart.join(",") || undefined });
      return report;
    },
    stop: opened.close,
  };
  try {
    const extra = (await opts.onListening?.(server)) ?? [];
    if (opts.banner)
      printBanner(
        server,
        core.config,
        core.dataDir,
        opened.plugins.map((a) => a.plugin),
        await startHints(core, webUrls(server, core.config)),
        extra,
      );
  } catch (err) {
    await opened.close();
    throw err;
  }
  core.log.info("ready", { listeners: listeners.map((l) => `${l.name}:${l.port}`).join(",") });
  return server;
}

/** What a new admin should do next, shown under the banner. */
async function startHints(core: Core, web: { http?: string; https?: string }): Promise<string[]> {
  const hints: string[] = (await core.hooks.all("banner", web)).flat();
  if (core.db.readOnly) hints.push(`DISK FULL — ${core.db.readOnly}. Mail is refused (SMTP 452) and nothing can be changed; reading mail works. Free space and kotakpos resumes by itself.`);
  if (!core.config.hostname.includes(".")) hints.push(`hostname "${core.config.hostname}" is not a full DNS name: set hostname in ${configFileIn(core.dataDir)}`);
  if ((await core.store.listDomains()).length === 0) hints.push("no mail domain yet: kotakpos domain add example.com && kotakpos user add you@example.com");
  hints.push(`admin API token: ${adminTokenIn(core.dataDir)}`);
  return hints;
}

function webUrls(s: RunningServer, config: Config): { http?: string; https?: string } {
  const out: { http?: string; https?: string } = {};
  for (const l of s.listeners) if (l.name === "http" || l.name === "https") out[l.name] = `${l.name}://${config.hostname}:${l.port}`;
  return out;
}

function printBanner(s: RunningServer, config: Config, dataDir: string, plugins: Plugin[], hints: string[], extra: string[]): void {
  const lines = [`kotakpos ready — ${config.hostname}`, `  data directory  ${dataDir}`, `  plugins         ${plugins.map((p) => p.name).join(", ") || "(none)"}`];
  for (const l of s.listeners) lines.push(`  ${l.name.padEnd(15)} ${l.address}:${l.port}`);
  lines.push(...extra);
  const http = s.listeners.find((l) => l.name === "http" || l.name === "https");
  if (http) lines.push(`  web             ${http.name}://${config.hostname}:${http.port}/`);
  for (const h of hints) lines.push(`  → ${h}`);
  process.stdout.write(lines.join("\n") + "\n");
}
