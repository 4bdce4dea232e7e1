// Argument parsing for every command: node:util parseArgs (strict) plus the options
// every command accepts (--data, --config, --help).
import { parseArgs, type ParseArgsConfig } from "node:util";
import { UsageError } from "./errors.ts";

export type OptionSpec = NonNullable<ParseArgsConfig["options"]>;

export const GLOBAL_OPTIONS = {
  data: { type: "string" },
  config: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const satisfies OptionSpec;

export interface Parsed {
  values: Record<string, string | boolean | (string | boolean)[] | undefined>;
  positionals: string[];
}

/** Parse argv against the command's options plus the global ones; usage errors exit 2.
 *  `lenient`: unknown options pass (only the global ones are wanted yet). */
export function parse(argv: string[], options: OptionSpec = {}, opts: { lenient?: boolean } = {}): Parsed {
  try {
    const r = parseArgs({ args: argv, options: { ...GLOBAL_OPTIONS, ...options }, allowPositionals: true, strict: !opts.lenient });
    return { values: r.values as Parsed["values"], positionals: r.positionals };
  } catch (e) {
    // parseArgs messages are long and mention internals; keep the first sentence.
    const msg = (e as Error).message.split(". ")[0]!.replace(/^TypeError( \[\w+\])?: /, "");
    throw new UsageError(msg);
  }
}

/** A string option's value, if given. */
export const str = (p: Parsed, name: string): string | undefined => {
  const v = p.values[name];
  return typeof v === "string" ? v : undefined;
};

/** Exactly `n` positionals (named in the message), else a usage error. */
export function positionals(p: Parsed, names: string[], opts: { rest?: boolean } = {}): string[] {
  const got = p.positionals;
  if (got.length < names.length) throw new UsageError(`missing ${names.slice(got.length).join(" ")}`);
  if (!opts.rest && got.length > names.length) throw new UsageError(`unexpected argument "${got[names.length]}"`);
  return got;
}

/** A whole number option within bounds, else a usage error. */
export function intOption(p: Parsed, name: string, min: number, max: number): number | undefined {
  const raw = str(p, name);
  if (raw === undefined) return undefined;
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) throw new UsageError(`--${name} must be a whole number from ${min} to ${max}, not "${raw}"`);
  return Number(raw);
}
