// The kotakpos command line: `kotakpos <command> [options]`, run by the composition root
// (main.ts) with the built-in plugins. The core's commands, then every plugin's
// (Plugin.commands: built-ins, and extra plugins from the plugins folder). Exit status 0
// ok, 1 runtime error, 2 usage or config error; every error is one line on stderr.
import pkg from "../../package.json" with { type: "json" };
import { ConfigError } from "../config.ts";
import { embeddedSchema } from "../db/schema-version.ts";
import type { Plugin } from "../types.ts";
import { parse } from "./args.ts";
import { backupCommand, restoreCommand, verifyBackupCommand } from "./backup.ts";
import { GLOBAL_HELP, helpOf, type Command } from "./command.ts";
import { globalsOf, loadCliConfig, type Ctx } from "./context.ts";
import { domainCommand } from "./domain.ts";
import { CommandError, EXIT_OK, EXIT_RUNTIME, EXIT_USAGE, UsageError } from "./errors.ts";
import { installCommand, uninstallCommand } from "./install.ts";
import { processIo, type Io } from "./io.ts";
import { migrateBlobsCommand } from "./migrate-blobs.ts";
import { pluginsCommand } from "./plugins.ts";
import { queueCommand } from "./queue.ts";
import { relayCommand } from "./relay.ts";
import { reloadCommand, serveCommand } from "./serve.ts";
import { userCommand } from "./user.ts";

export const VERSION: string = pkg.version;

const versionCommand: Command = {
  name: "version",
  summary: "print the version",
  usage: ["version"],
  options: { version: { type: "boolean" } },
  async run(ctx) {
    const s = embeddedSchema();
    // KOTAKPOS_BUILD_TARGET is fixed at build time (scripts/build.ts); from source: "source".
    const build = process.env.KOTAKPOS_BUILD_TARGET ? `${process.env.KOTAKPOS_BUILD_TARGET} binary` : `source (${process.platform}-${process.arch})`;
    ctx.io.out(`kotakpos ${VERSION}\n  schema  ${s.count} (${s.tag})\n  build   ${build}\n  bun     ${Bun.version}\n`);
  },
};

/** The core's own commands; plugins add theirs (Plugin.commands: alias, dns, tls …). */
export const CORE_COMMANDS: Command[] = [
  serveCommand,
  reloadCommand,
  domainCommand,
  userCommand,
  queueCommand,
  relayCommand,
  pluginsCommand,
  backupCommand,
  restoreCommand,
  verifyBackupCommand,
  migrateBlobsCommand,
  installCommand,
  uninstallCommand,
  versionCommand,
];

/** The core's commands then the plugins' (a plugin cannot replace a core command). */
export function commandsOf(plugins: readonly Plugin[]): Command[] {
  const out = [...CORE_COMMANDS];
  for (const p of plugins) for (const c of p.commands ?? []) if (!out.some((x) => x.name === c.name)) out.push(c);
  return out;
}

function mainHelp(commands: Command[]): string {
  const lines = ["kotakpos — a complete mail server in one executable", "", "Usage: kotakpos <command> [options]", "", "Commands:"];
  for (const c of commands) for (const u of c.usage) lines.push(`  ${u}`);
  lines.push("", ...GLOBAL_HELP, "", "`kotakpos <command> --help` explains a command.");
  return lines.join("\n") + "\n";
}

/** Options that take a value in the next argument (when not written --opt=value). */
const VALUE_OPTIONS = new Set(["--data", "--config", "--port-offset", "--listen"]);

/** Take the first word of argv that is not an option or an option's value. */
function takeWord(argv: string[]): { word?: string; rest: string[] } {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--") return { rest: argv };
    if (VALUE_OPTIONS.has(a)) {
      i++;
      continue;
    }
    if (a.startsWith("-")) continue;
    return { word: a, rest: [...argv.slice(0, i), ...argv.slice(i + 1)] };
  }
  return { rest: argv };
}

/** Run the CLI with these built-in plugins; resolves with the exit status (serve resolves
 *  after a signal stopped it). */
export async function runCli(argv: string[], builtins: Plugin[], io: Io = processIo): Promise<number> {
  try {
    const commands = commandsOf(builtins);
    let { word, rest } = takeWord(argv);
    if (word === "help") {
      ({ word, rest } = takeWord(rest));
      rest.push("--help");
    }
    if (word === undefined) {
      if (rest.includes("--version")) word = "version";
      else if (rest.includes("--help") || rest.includes("-h")) {
        io.out(mainHelp(commands));
        return EXIT_OK;
      } else {
        throw new UsageError("missing command: kotakpos <command> [options] (kotakpos --help lists them)");
      }
    }
    let cmd = commands.find((c) => c.name === word);
    // Not a core or built-in command: perhaps an extra plugin's (<data>/plugins).
    if (!cmd) cmd = await extraCommand(word, { io, globals: globalsOf(parse(rest, {}, { lenient: true }), io.env), builtins });
    if (!cmd) throw new UsageError(`unknown command "${word}" (kotakpos --help lists them)`);
    const path = [cmd.name];
    while (cmd.sub) {
      const next = takeWord(rest);
      const sub: Command | undefined = next.word === undefined ? undefined : cmd.sub.find((s) => s.name === next.word);
      if (!sub) {
        if (rest.includes("--help") || rest.includes("-h")) {
          io.out(helpOf(cmd, path));
          return EXIT_OK;
        }
        throw new UsageError(
          next.word === undefined ? `missing subcommand: kotakpos ${path.join(" ")} ${cmd.sub.map((s) => s.name).join("|")}` : `unknown subcommand "${path.join(" ")} ${next.word}"`,
        );
      }
      cmd = sub;
      path.push(sub.name);
      rest = next.rest;
    }
    const parsed = parse(rest, cmd.options);
    if (parsed.values.help) {
      io.out(helpOf(cmd, path));
      return EXIT_OK;
    }
    const status = await cmd.run!({ io, globals: globalsOf(parsed, io.env), builtins }, parsed);
    return status ?? EXIT_OK;
  } catch (err) {
    return report(err, io);
  }
}

/** A command of an extra plugin: the plugins folder is where the config says. */
async function extraCommand(word: string, ctx: Ctx): Promise<Command | undefined> {
  const { plugins } = await loadCliConfig(ctx);
  return commandsOf(plugins.filter((p) => !ctx.builtins.includes(p))).find((c) => c.name === word);
}

/** One line on stderr; the exit status by the kind of error. */
function report(err: unknown, io: Io): number {
  const e = err instanceof Error ? err : new Error(String(err));
  const line = (s: string) => io.err(s.replace(/\s*\n\s*/g, " ").trim() + "\n");
  if (e instanceof UsageError) {
    line(`kotakpos: ${e.message}`);
    return EXIT_USAGE;
  }
  if (e instanceof ConfigError) {
    line(e.message.startsWith("config error") ? e.message : `config error: ${e.message}`);
    return EXIT_USAGE;
  }
  if (e instanceof CommandError) {
    line(`kotakpos: ${e.message}`);
    return EXIT_RUNTIME;
  }
  line(`kotakpos: ${e.message || e.name}`);
  if (io.env.KOTAKPOS_DEBUG && e.stack) io.err(e.stack + "\n");
  return EXIT_RUNTIME;
}
