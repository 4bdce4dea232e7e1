// `kotakpos reload` / SIGHUP / systemd ExecReload: a new config applied to the running
// server without dropping a session. The new file is validated whole first (core keys and
// every plugin's section); a bad one changes nothing. Then changed values are written into
// the live config objects in place, so code that reads them per session or per transaction
// (limits, timeouts, delivery settings, plugins' sections) uses the new values from then
// on. Bound resources (listeners, database, blob folder, the plugin set) need a restart:
// those changes are reported and left as they are.
import * as v from "valibot";
import type { Config } from "./config.ts";
import { ConfigError } from "./config.ts";
import { describeIssues } from "./plugins.ts";
import type { Plugin } from "./types.ts";

/** Top-level keys whose change needs a restart. */
const RESTART_KEYS = new Set(["listen", "database", "blobs", "plugins", "metrics"]);

export interface ReloadReport {
  /** Changed keys now in force ("limits.maxMessageSize"). */
  changed: string[];
  /** Changed keys that take effect only after a restart. */
  needsRestart: string[];
}

type Obj = Record<string, unknown>;
const isObj = (x: unknown): x is Obj => typeof x === "object" && x !== null && !Array.isArray(x);

/** Leaf paths whose values differ (arrays compared whole). */
function diff(a: unknown, b: unknown, path: string, out: string[]): void {
  if (isObj(a) && isObj(b)) {
    for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) diff(a[k], b[k], path ? `${path}.${k}` : k, out);
  } else if (JSON.stringify(a) !== JSON.stringify(b)) out.push(path);
}

/** Write `next` into `live` in place (objects kept, so holders of them see the change). */
function assignDeep(live: Obj, next: Obj): void {
  for (const [k, val] of Object.entries(next)) {
    if (isObj(val) && isObj(live[k])) assignDeep(live[k] as Obj, val);
    else live[k] = val;
  }
}

export interface Reloadable {
  /** The live config (core.config). */
  config: Config;
  /** Set-up plugins with the validated config object each was given. */
  plugins: { plugin: Plugin; config: unknown }[];
}

/** Validate `next` for the running plugins, then apply it. Throws ConfigError, changing nothing. */
export function applyReload(target: Reloadable, next: Config): ReloadReport {
  const sections = target.plugins.map(({ plugin }) => {
    if (!plugin.config) return undefined;
    const r = v.safeParse(plugin.config, (next as Obj)[plugin.name] ?? {});
    if (!r.success) throw new ConfigError(`config error: ${describeIssues(plugin.name, r.issues)}`);
    return r.output;
  });
  const changed: string[] = [];
  diff(target.config, next, "", changed);
  const needsRestart = changed.filter((p) => RESTART_KEYS.has(p.split(".")[0]!));
  const live = target.config as unknown as Obj;
  for (const [k, val] of Object.entries(next as Obj)) {
    if (RESTART_KEYS.has(k)) continue;
    if (isObj(val) && isObj(live[k])) assignDeep(live[k] as Obj, val);
    else live[k] = val;
  }
  target.plugins.forEach(({ config }, i) => {
    if (isObj(config) && isObj(sections[i])) assignDeep(config, sections[i] as Obj);
  });
  return { changed: changed.filter((p) => !needsRestart.includes(p)), needsRestart };
}
