// npm run build [-- --target linux-x64|linux-arm64] [OUTFILE]: the single executable
// (bun build --compile through Bun.build). It runs with no Node, Bun or node_modules on
// the machine. Without --target: dist/kotakpos for this machine; with it:
// dist/kotakpos-<target>, the other architecture's Bun runtime and libSQL addon fetched
// from the npm registry at build time.
import type { BunPlugin } from "bun";
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const root = join(import.meta.dir, "..");
const TARGETS = { "linux-x64": { bun: "bun-linux-x64", arch: "x64" }, "linux-arm64": { bun: "bun-linux-arm64", arch: "arm64" } } as const;
type Target = keyof typeof TARGETS;

const args = process.argv.slice(2);
const ti = args.indexOf("--target");
const targetName = ti >= 0 ? args.splice(ti, 2)[1] : undefined;
if (targetName !== undefined && !(targetName in TARGETS)) {
  console.error(`unknown --target ${targetName}: one of ${Object.keys(TARGETS).join(", ")}`);
  process.exit(2);
}
const target = targetName as Target | undefined;
const outfile = args[0] ?? join(root, "dist", target ? `kotakpos-${target}` : "kotakpos");
const arch = target ? TARGETS[target].arch : process.arch;

/** The libSQL native addon file for the target (glibc builds; see TOOLCHAIN.md): the
 *  installed one for this machine, else its npm package unpacked into .build/. */
const nativePackage = `@libsql/linux-${arch}-gnu`;
function nativeAddon(): string {
  if (arch === process.arch) return Bun.resolveSync(nativePackage, root);
  const version = (JSON.parse(readFileSync(join(root, "node_modules/libsql/package.json"), "utf8")) as { optionalDependencies: Record<string, string> }).optionalDependencies[nativePackage];
  if (!version) throw new Error(`libsql names no ${nativePackage}`);
  const dir = join(root, ".build", `${nativePackage.replace("/", "+")}-${version}`);
  const addon = join(dir, "package", "index.node");
  if (!existsSync(addon)) {
    mkdirSync(dir, { recursive: true });
    const pack = Bun.spawnSync(["npm", "pack", "--silent", `${nativePackage}@${version}`], { cwd: dir });
    const tgz = pack.stdout.toString().trim().split("\n").pop();
    if (pack.exitCode !== 0 || !tgz) throw new Error(`npm pack ${nativePackage}@${version} failed: ${pack.stderr.toString()}`);
    const untar = Bun.spawnSync(["tar", "xzf", tgz], { cwd: dir });
    if (untar.exitCode !== 0 || !existsSync(addon)) throw new Error(`unpacking ${tgz} failed: ${untar.stderr.toString()}`);
  }
  return addon;
}

/** The addon is embedded gzipped as a plain file and unpacked once into a private cache by
 *  core/db/native-addon.ts (Bun's own `.node` embedding copies it out on every start, and the
 *  9.7 MB it reads stay in the server's resident memory). */
function packedAddon(): { gz: string; id: string; size: number } {
  const bytes = readFileSync(nativeAddon());
  const id = new Bun.CryptoHasher("sha256").update(bytes).digest("hex").slice(0, 16);
  const gz = join(root, ".build", `libsql-${arch}-${id}.node.gz`);
  if (!existsSync(gz)) {
    mkdirSync(join(root, ".build"), { recursive: true });
    // builds run in parallel (tests): write aside, then rename into place
    const part = `${gz}.${process.pid}.part`;
    writeFileSync(part, Bun.gzipSync(bytes, { level: 9 }));
    renameSync(part, gz);
  }
  return { gz, id, size: bytes.byteLength };
}
const addon = packedAddon();
const ADDON_MODULE = "kotakpos:libsql-addon";

/** node_modules/libsql/index.js picks its native addon with a dynamic
 *  require(`@libsql/${target}`) that the bundler cannot follow; point it at the embedded
 *  one instead. */
const libsqlNative: BunPlugin = {
  name: "libsql-static-native",
  setup(build) {
    build.onLoad({ filter: /[\\/]node_modules[\\/]libsql[\\/]index\.js$/ }, async (args) => {
      const src = await Bun.file(args.path).text();
      const out = src.replace(/require\(`@libsql\/\$\{target\}`\)/, `require(${JSON.stringify(ADDON_MODULE)}).addon`);
      if (out === src) throw new Error(`${args.path}: the dynamic require of the native addon was not found (libsql changed?)`);
      return { contents: out, loader: "js" };
    });
    build.onResolve({ filter: /^kotakpos:libsql-addon$/ }, () => ({ path: ADDON_MODULE, namespace: "kotakpos-addon" }));
    build.onLoad({ filter: /.*/, namespace: "kotakpos-addon" }, () => ({
      contents: [
        `import gz from ${JSON.stringify(addon.gz)} with { type: "file" };`,
        `import { loadEmbeddedAddon } from ${JSON.stringify(join(root, "core", "db", "native-addon.ts"))};`,
        `export const addon = loadEmbeddedAddon(gz, ${JSON.stringify(addon.id)}, ${addon.size});`,
      ].join("\n"),
      loader: "js",
    }));
  },
};

/** Files started with `new Worker(new URL("./x.ts", import.meta.url))`. */
const WORKERS = ["plugins/mailauth/check-worker.ts"];

mkdirSync(join(outfile, ".."), { recursive: true });
const started = performance.now();
const result = await Bun.build({
  // Worker threads are separate entry points in a compiled binary (Bun's docs, "Worker").
  entrypoints: [join(root, "main.ts"), ...WORKERS.map((w) => join(root, w))],
  target: "bun",
  format: "esm",
  // Code loaded on first use (import()) goes to chunks of its own: start-up then reads
  // only the bytecode it runs (2.6 MiB less resident memory at idle).
  splitting: true,
  minify: { syntax: true, whitespace: true },
  // bytecode is made for the building machine's architecture only
  bytecode: process.env.KOTAKPOS_BYTECODE !== "0" && arch === process.arch,
  plugins: [libsqlNative],
  // `kotakpos version` names the build it is
  define: { "process.env.KOTAKPOS_BUILD_TARGET": JSON.stringify(`linux-${arch}`) },
  compile: {
    outfile,
    ...(target && { target: TARGETS[target].bun }),
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
