#!/usr/bin/env bun
// The composition root: the only place that knows both the core and the plugins. It holds
// the built-in plugin list (plugins/index.ts, in hook order) and hands it to the core's
// CLI; core/ never imports plugins/ (core/boundary.test.ts checks it). `kotakpos …`,
// `npm start` and the compiled binary (scripts/build.ts) all start here.
import { runCli } from "./core/cli/main.ts";
import type { Io } from "./core/cli/io.ts";
import { builtinPlugins } from "./plugins/index.ts";

export { builtinPlugins };

/** The CLI with the built-in plugins; resolves with the exit status. */
export const main = (argv: string[], io?: Io): Promise<number> => runCli(argv, builtinPlugins, io);

if (import.meta.main) {
  const status = await main(process.argv.slice(2));
  // Let buffered output reach a pipe before leaving.
  await new Promise<void>((r) => process.stdout.write("", () => r()));
  await new Promise<void>((r) => process.stderr.write("", () => r()));
  process.exit(status);
}
