#!/usr/bin/env bun
// The kotakpos command line: `kotakpos <command> [options]`. Exit status 0 ok, 1 runtime
// error, 2 usage or config error; every error is one line on stderr.
import pkg from "../package.json" with { type: "json" };
import { ConfigError } from "./config-file.ts";
import { ConfigError as PluginConfigError } from "./plugins.ts";
import { parse } from "./cli/args.ts";
import { aliasCommand } from "./cli/alias.ts";
import { GLOBAL_HELP, helpOf, type Command } from "./cli/command.ts";
import { globalsOf } from "./cli/context.ts";
import { domainCommand } from "./cli/domain.ts";
import { embeddedSchema } from "./db/schema-version.ts";
import { installCommand, uninstallCommand } from "./cli/install.ts";
import { backupCommand, restoreCommand, verifyBackupCommand } from "./cli/backup.ts";
import { CommandError, EXIT_OK, EXIT_RUNTIME, EXIT_USAGE, UsageError } from "./cli/errors.ts";
import { processIo, type Io } from "./cli/io.ts";
import { pluginsCommand } from "./cli/plugins.ts";
import { queueCommand } from "./cli/queue.ts";
import { relayCommand } from "./cli/relay.ts";
import { reloadCommand, serveCommand } from "./cli/serve.ts";
import { userCommand } from "./cli/user.ts";
import { dnsCommand } from "../plugins/mailauth/cli.ts";
import { tlsCommand } from "../plugins/acme/cli.ts";

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

// Commands a plugin provides for its own data (e.g. `dns` of mailauth) are listed here too.
export const COMMANDS: Command[] = [
  serveCommand,
  reloadCommand,
  domainCommand,
  userCommand,
  aliasCommand,
  queueCommand,
  relayCommand,
  dnsCommand,
  tlsCommand,
  pluginsCommand,
  backupCommand,
  restoreCommand,
  verifyBackupCommand,
  installCommand,
  uninstallCommand,
  versionCommand,
];

function mainHelp(): string {
  const lines = ["kotakpos — a complete mail server in one executable", "", "Usage: kotakpos <command> [options]", "", "Commands:"];
  for (const c of COMMANDS) for (const u of c.usage) lines.push(`  ${u}`);
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

/** Run the CLI; resolves with the exit status (serve resolves after a signal stopped it). */
export async function main(argv: string[], io: Io = processIo): Promise<number> {
  try {
    let { word, rest } = takeWord(argv);
    if (word === "help") {
      ({ word, rest } = takeWord(rest));
      rest.push("--help");
    }
    if (word === undefined) {
      if (rest.includes("--version")) word = "version";
      else if (rest.includes("--help") || rest.includes("-h")) {
        io.out(mainHelp());
        return EXIT_OK;
      } else {
        throw new UsageError("missing command: kotakpos <command> [options] (kotakpos --help lists them)");
      }
    }
    let cmd = COMMANDS.find((c) => c.name === word);
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
        throw new UsageError(next.word === undefined ? `missing subcommand: kotakpos ${path.join(" ")} ${cmd.sub.map((s) => s.name).join("|")}` : `unknown subcommand "${path.join(" ")} ${next.word}"`);
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
    const status = await cmd.run!({ io, globals: globalsOf(parsed, io.env) }, parsed);
    return status ?? EXIT_OK;
  } catch (err) {
    return report(err, io);
  }
}

/** One line on stderr; the exit status by the kind of error. */
function report(err: unknown, io: Io): number {
  const e = err instanceof Error ? err : new Error(String(err));
  const line = (s: string) => io.err(s.replace(/\s*\n\s*/g, " ").trim() + "\n");
  if (e instanceof UsageError) {
    line(`kotakpos: ${e.message}`);
    return EXIT_USAGE;
  }
  if (e instanceof ConfigError || e instanceof PluginConfigError) {
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

if (import.meta.main) {
  const status = await main(process.argv.slice(2));
  // Let buffered output reach a pipe before leaving.
  await new Promise<void>((r) => process.stdout.write("", () => r()));
  await new Promise<void>((r) => process.stderr.write("", () => r()));
  process.exit(status);
}
