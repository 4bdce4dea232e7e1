// The shape of a CLI command: its help and either a run function or subcommands.
import type { OptionSpec, Parsed } from "./args.ts";
import type { Ctx } from "./context.ts";

export interface Command {
  name: string;
  /** One line for the list of commands. */
  summary: string;
  /** Usage lines, without the leading "kotakpos ". */
  usage: string[];
  /** More help: options and notes, shown by --help. */
  details?: string[];
  options?: OptionSpec;
  run?(ctx: Ctx, p: Parsed): Promise<number | void>;
  sub?: Command[];
}

export const GLOBAL_HELP = [
  "Options every command accepts:",
  "  --data DIR       data directory (default: $KOTAKPOS_DATA or ./data)",
  "  --config FILE    config file (default: $KOTAKPOS_CONFIG or <data>/kotakpos.toml)",
  "  -h, --help       this help",
];

/** The --help text of a command (with its subcommands' usage). */
export function helpOf(cmd: Command, path: string[]): string {
  const lines = ["Usage:"];
  for (const u of cmd.usage) lines.push(`  kotakpos ${u}`);
  lines.push("", cmd.summary);
  if (cmd.sub?.length) {
    lines.push("", "Commands:");
    for (const s of cmd.sub) lines.push(`  ${[...path, s.name].join(" ").padEnd(22)} ${s.summary}`);
  }
  if (cmd.details?.length) lines.push("", ...cmd.details);
  lines.push("", ...GLOBAL_HELP);
  return lines.join("\n") + "\n";
}
