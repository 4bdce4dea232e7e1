// npm run build: the single executable dist/kotakpos (bun build --compile through
// Bun.build). It runs with no Node, Bun or node_modules on the machine.
import type { BunPlugin } from "bun";
import { mkdirSync, statSync } from "node:fs";
import { join } from "node:path";

const root = join(import.meta.dir, "..");
const outfile = process.argv[2] ?? join(root, "dist", "kotakpos");

/** The libSQL native addon for this machine (glibc builds; see TOOLCHAIN.md). */
const nativePackage = `@libsql/${process.platform}-${process.arch}-gnu`;

/** node_modules/libsql/index.js picks its native addon with a dynamic
 *  require(`@libsql/${target}`) that the bundler cannot follow; make it static so the
 *  addon is embedded in the executable. */
const libsqlNative: BunPlugin = {
  name: "libsql-static-native",
  setup(build) {
    build.onLoad({ filter: /[\\/]node_modules[\\/]libsql[\\/]index\.js$/ }, async (args) => {
      const src = await Bun.file(args.path).text();
      const out = src.replace(/require\(`@libsql\/\$\{target\}`\)/, `require(${JSON.stringify(nativePackage)})`);
      if (out === src) throw new Error(`${args.path}: the dynamic require of the native addon was not found (libsql changed?)`);
      return { contents: out, loader: "js" };
    });
  },
};

/** Files started with `new Worker(new URL("./x.ts", import.meta.url))`. */
const WORKERS = ["plugins/mailauth/check-worker.ts"];

mkdirSync(join(outfile, ".."), { recursive: true });
const started = performance.now();
const result = await Bun.build({
  // Worker threads are separate entry points in a compiled binary (Bun's docs, "Worker").
  entrypoints: [join(root, "core", "main.ts"), ...WORKERS.map((w) => join(root, w))],
  target: "bun",
  format: "esm",
  minify: { syntax: true, whitespace: true },
  bytecode: process.env.KOTAKPOS_BYTECODE !== "0",
  plugins: [libsqlNative],
  compile: {
    outfile,
    // A server binary must not pick up .env or bunfig.toml from wherever it is started.
    autoloadDotenv: false,
    autoloadBunfig: false,
  },
});
if (!result.success) {
  for (const log of result.logs) console.error(String(log));
  console.error("build failed");
  process.exit(1);
}
for (const log of result.logs) if (log.level === "warning") console.error(String(log));
const size = statSync(outfile).size;
console.log(`${outfile}: ${(size / 1024 / 1024).toFixed(1)} MiB in ${((performance.now() - started) / 1000).toFixed(1)} s`);
