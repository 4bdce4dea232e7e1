// The config file (TOML) and env overrides, validated against core/config.ts and the
// plugins' own schemas. Order of precedence: defaults < file < env < overrides (CLI flags).
import * as v from "valibot";
import type { GenericSchema } from "valibot";
import { parse as parseToml } from "smol-toml";
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { ConfigError, ConfigSchema, type Config } from "./config.ts";
import { configFileIn } from "./paths.ts";

export { ConfigError };
import type { Plugin } from "./types.ts";
import { CORE_KEY_DOCS, coerce, coreLeaves, describe, envName, getPath, isObjectSchema, leaves, schemaAt, schemaDescription, sectionDefaults, tomlValue, unwrap, type Leaf } from "./config-doc.ts";

/** Nested partial, for overrides such as `{ listen: { address: "127.0.0.1" } }`. */
export type DeepPartial<T> = T extends (infer U)[] ? U[] : T extends object ? { [K in keyof T]?: DeepPartial<T[K]> } : T;

export interface LoadConfigOptions {
  dataDir: string;
  /** Explicit config file (`--config`); it must exist. Default: <data>/kotakpos.toml. */
  configFile?: string;
  /** Highest precedence (command-line flags, tests). */
  overrides?: DeepPartial<Config> & Record<string, unknown>;
  /** Environment to read KOTAKPOS_* overrides from (default: process.env). */
  env?: Record<string, string | undefined>;
  /** Plugins whose `[name]` sections are documented, env-overridable and validated. */
  plugins?: readonly Plugin[];
  /** Write the commented default file when the default path is missing (default true). */
  writeDefault?: boolean;
  /** Non-fatal findings (unknown sections, unknown KOTAKPOS_* variables). Default: stderr. */
  warn?: (msg: string) => void;
}

/** The config file path for a data dir and an optional --config value. */
export const configPath = (dataDir: string, configFile?: string): string => resolve(configFile ?? configFileIn(dataDir));

type Obj = Record<string, unknown>;
const isPlainObject = (x: unknown): x is Obj => !!x && typeof x === "object" && !Array.isArray(x) && !(x instanceof Date);

/** Deep merge: objects merge key by key, anything else (arrays too) replaces. */
export function deepMerge(base: Obj, over: Obj): Obj {
  const out: Obj = { ...base };
  for (const [k, val] of Object.entries(over)) {
    if (val === undefined) continue;
    out[k] = isPlainObject(val) && isPlainObject(out[k]) ? deepMerge(out[k] as Obj, val) : val;
  }
  return out;
}

function setPath(obj: Obj, path: string[], value: unknown): void {
  let o = obj;
  for (const k of path.slice(0, -1)) {
    if (!isPlainObject(o[k])) o[k] = {};
    o = o[k] as Obj;
  }
  o[path[path.length - 1]!] = value;
}

/** "dns.servers[0]" from ["dns", "servers", 0]. */
export const formatPath = (path: readonly (string | number)[]): string => path.map((k, i) => (typeof k === "number" ? `[${k}]` : i === 0 ? k : `.${k}`)).join("");

/** Where each overridden key came from, for error messages; the file is the fallback. */
type Origins = Map<string, string>;

function originOf(origins: Origins, path: readonly (string | number)[], fallback: string): string {
  for (let n = path.length; n > 0; n--) {
    const o = origins.get(formatPath(path.slice(0, n)));
    if (o) return o;
  }
  return fallback;
}

const showValue = (x: unknown): string => {
  if (x === undefined) return "(missing)";
  const s = JSON.stringify(x);
  return s === undefined ? String(x) : s.length > 80 ? `${s.slice(0, 77)}...` : s;
};

/** Validate one section (or the whole config) and turn the first valibot issue into
 *  `config error: delivery.port = "abc": expected a whole number from 0 to 65535 (in FILE)`. */
export function parseSection<S extends GenericSchema>(schema: S, input: unknown, opts: { prefix?: string[]; source: string; origins?: Origins }): v.InferOutput<S> {
  const r = v.safeParse(schema, input);
  if (r.success) return r.output;
  const issue = r.issues[0];
  const rel = (issue.path ?? []).map((p) => p.key as string | number);
  const full = [...(opts.prefix ?? []), ...rel];
  const at = schemaAt(schema, rel);
  const expected = at ? describe(at) : issue.message;
  const value = rel.length ? getPath(input, rel) : input;
  const where = originOf(opts.origins ?? new Map(), full, opts.source);
  const key = formatPath(full) || "(config)";
  throw new ConfigError(`config error: ${key} = ${showValue(value)}: expected ${expected} (${where})`, key, where);
}

/** Keys present in the input that no schema knows (nested sections are not loose:
 *  valibot would drop a misspelt key silently). */
function unknownKeys(schema: GenericSchema, input: unknown, prefix: string[]): string[] {
  const s = unwrap(schema);
  if (!isObjectSchema(s) || !isPlainObject(input)) return [];
  const out: string[] = [];
  for (const [k, val] of Object.entries(input)) {
    const child = s.entries![k];
    if (!child) {
      if (s.type !== "loose_object") out.push(formatPath([...prefix, k]));
      continue;
    }
    out.push(...unknownKeys(child as unknown as GenericSchema, val, [...prefix, k]));
  }
  return out;
}

/** The plugins' section schemas (plugins with an object schema only). */
function pluginSections(plugins: readonly Plugin[] | undefined): Map<string, GenericSchema> {
  const m = new Map<string, GenericSchema>();
  for (const p of plugins ?? []) if (p.config && isObjectSchema(unwrap(p.config))) m.set(p.name, p.config);
  return m;
}

/** Apply KOTAKPOS_<SECTION>_<KEY> variables, coerced by each key's schema type. */
function envOverrides(env: Record<string, string | undefined>, all: Leaf[], origins: Origins, warn?: (m: string) => void): Obj {
  const byName = new Map(all.map((l) => [envName(l.path), l]));
  const sectionPrefixes = [...new Set(all.filter((l) => l.path.length > 1).map((l) => envName([l.path[0]!]) + "_"))];
  const out: Obj = {};
  for (const [name, raw] of Object.entries(env)) {
    if (!name.startsWith("KOTAKPOS_") || raw === undefined) continue;
    const leaf = byName.get(name);
    if (!leaf) {
      // A misspelt key of a known section deserves a warning; other KOTAKPOS_* variables
      // (KOTAKPOS_DATA, test switches …) are none of the config's business.
      if (warn && sectionPrefixes.some((p) => name.startsWith(p))) warn(`config warning: ${name} is not a config key (ignored)`);
      continue;
    }
    setPath(out, leaf.path, coerce(leaf.schema, raw));
    origins.set(formatPath(leaf.path), `from ${name}`);
  }
  return out;
}

function readToml(path: string): Obj {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new ConfigError(`config error: cannot read ${path}: ${(e as Error).message}`, undefined, path);
  }
  try {
    return parseToml(text) as Obj;
  } catch (e) {
    const err = e as Error & { line?: number; column?: number };
    const first = err.message.split("\n")[0]!.replace(/^Invalid TOML document:\s*/, "");
    const pos = err.line ? ` at line ${err.line}, column ${err.column}` : "";
    throw new ConfigError(`config error: TOML syntax error${pos}: ${first} (in ${path})`, undefined, path);
  }
}

/** Load, merge and validate the config. Throws ConfigError (exit 2) on any problem. */
export async function loadConfig(opts: LoadConfigOptions): Promise<Config> {
  const file = configPath(opts.dataDir, opts.configFile);
  const source = `in ${file}`;
  const warn = opts.warn ?? ((m: string) => process.stderr.write(m + "\n"));
  let fromFile: Obj = {};
  if (existsSync(file)) {
    fromFile = readToml(file);
  } else if (opts.configFile !== undefined) {
    throw new ConfigError(`config error: config file ${file} does not exist`, undefined, file);
  } else if (opts.writeDefault ?? true) {
    writeDefaultConfig(file, opts.plugins);
  }

  const sections = pluginSections(opts.plugins);
  const origins: Origins = new Map();
  const allLeaves = [...coreLeaves(), ...[...sections].flatMap(([name, s]) => leaves(s, [name]))];
  const fromEnv = envOverrides(opts.env ?? process.env, allLeaves, origins, opts.plugins ? warn : undefined);
  const overrides = (opts.overrides ?? {}) as Obj;
  for (const l of leaves(ConfigSchema)) if (getPath(overrides, l.path) !== undefined) origins.set(formatPath(l.path), "from the command line");

  const merged = deepMerge(deepMerge(fromFile, fromEnv), overrides);
  for (const key of unknownKeys(ConfigSchema, merged, [])) {
    throw new ConfigError(`config error: ${key}: unknown key (${originOf(origins, key.split("."), source)})`, key, source);
  }
  const config = parseSection(ConfigSchema, merged, { source, origins });

  const core = unwrap(ConfigSchema).entries!;
  for (const [name, section] of Object.entries(merged)) {
    if (core[name]) continue;
    const schema = sections.get(name);
    if (schema) {
      parseSection(schema, section, { prefix: [name], source, origins });
      for (const key of unknownKeys(schema, section, [name])) throw new ConfigError(`config error: ${key}: unknown key (${source})`, key, source);
    } else if (opts.plugins) {
      warn(`config warning: [${name}] is not a core section or a loaded plugin (ignored) (${source})`);
    }
  }
  return config;
}

/** Write the commented default file (atomically, mode 0600: it may hold a DB token). */
export function writeDefaultConfig(file: string, plugins?: readonly Plugin[]): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, renderDefaultConfig(plugins), { mode: 0o600 });
  renameSync(tmp, file);
}

/** An example value for a key without a default, so uncommenting it gives valid TOML. */
function placeholder(s: ReturnType<typeof unwrap>): unknown {
  switch (s.type) {
    case "number":
      return 0;
    case "boolean":
      return false;
    case "array":
      return [];
    case "picklist":
      return s.options?.[0] ?? "";
    default:
      return "";
  }
}

function comment(text: string): string[] {
  // Wrap at ~88 columns so the file reads well in a terminal.
  const words = text.split(/\s+/);
  const lines: string[] = [];
  let cur = "#";
  for (const w of words) {
    if (cur.length + w.length + 1 > 88 && cur !== "#") {
      lines.push(cur);
      cur = "#";
    }
    cur += ` ${w}`;
  }
  lines.push(cur);
  return lines;
}

/** Render one table: its own keys first, then its sub-tables (TOML needs that order). */
function renderTable(schema: GenericSchema, path: string[], defaults: unknown, docs: (p: string[], s: ReturnType<typeof unwrap>) => string | undefined): string[] {
  const s = unwrap(schema);
  const out: string[] = [];
  const subs: [string, GenericSchema][] = [];
  const own: string[] = [];
  for (const [k, child] of Object.entries(s.entries ?? {})) {
    const inner = unwrap(child);
    if (isObjectSchema(inner)) {
      subs.push([k, child as unknown as GenericSchema]);
      continue;
    }
    const p = [...path, k];
    const doc = docs(p, inner);
    if (doc) own.push(...comment(doc));
    const def = getPath(defaults, [k]);
    if (def === undefined) own.push("# (no default)");
    own.push(`# ${k} = ${tomlValue(def === undefined ? placeholder(inner) : def)}`, "");
  }
  if (path.length && (own.length || !subs.length)) out.push(`[${path.join(".")}]`);
  out.push(...own);
  for (const [k, child] of subs) out.push(...renderTable(child, [...path, k], getPath(defaults, [k]), docs));
  return out;
}

/** The commented default config file: every core key and every plugin key, with its
 *  default and what it does. All keys are commented out so code defaults still apply. */
export function renderDefaultConfig(plugins?: readonly Plugin[]): string {
  const head = [
    "# kotakpos configuration (TOML).",
    "#",
    "# Every key is listed with its default value, commented out: remove the leading '#'",
    "# to change one. Environment variables override this file: KOTAKPOS_<SECTION>_<KEY>,",
    "# e.g. KOTAKPOS_LISTEN_ADDRESS=127.0.0.1, KOTAKPOS_DNS_SERVERS=127.0.0.1:5353,1.1.1.1",
    "# (a comma list), KOTAKPOS_DELIVERY_PORT=2525, KOTAKPOS_LISTEN_PORT_OFFSET=10000.",
    "# Command-line flags (serve --listen, --port-offset) override both.",
    "",
  ];
  const defaults = v.parse(ConfigSchema, {});
  const core = renderTable(ConfigSchema, [], defaults, (p) => CORE_KEY_DOCS[p.join(".")]);
  const rest: string[] = [];
  for (const [name, schema] of pluginSections(plugins)) {
    rest.push(`# ---- plugin "${name}" ----`);
    const desc = schemaDescription(unwrap(schema));
    if (desc) rest.push(...comment(desc));
    rest.push(...renderTable(schema, [name], sectionDefaults(schema) ?? {}, (_p, s) => schemaDescription(s)));
  }
  return (
    [...head, ...core, ...rest]
      .join("\n")
      .replace(/\n{3,}/g, "\n\n")
      .trimEnd() + "\n"
  );
}
