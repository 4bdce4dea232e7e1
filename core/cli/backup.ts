// kotakpos backup DEST [--incremental [PREV]] | restore SRC --data DIR | verify-backup SRC
import { dataPaths } from "../paths.ts";
import { backup, BackupError } from "../backup/backup.ts";
import { ManifestError } from "../backup/manifest.ts";
import { restore } from "../backup/restore.ts";
import { verifyBackup } from "../backup/verify.ts";
import { positionals, str } from "./args.ts";
import type { Command } from "./command.ts";
import { loadCliConfig, type Ctx } from "./context.ts";
import { CommandError, UsageError } from "./errors.ts";
import pkg from "../../package.json" with { type: "json" };

const mib = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MiB`;

/** Expected failures of these commands are one line, exit 1. */
async function expected<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof BackupError || e instanceof ManifestError) throw new CommandError(e.message);
    throw e;
  }
}

export const backupCommand: Command = {
  name: "backup",
  summary: "a consistent backup of the data directory (while serving or stopped)",
  usage: ["backup DEST [--incremental [--from PREV]]"],
  details: [
    "DEST is a new directory. The database is snapshotted (VACUUM INTO: consistent while the",
    "server runs), then the blobs it references are hard-linked (same file system) or copied,",
    "with the config, admin token and extra plugins, and a manifest.json of checksums.",
    "",
    "Options:",
    "  --incremental   take the blobs an earlier backup holds from it (the newest backup beside",
    "                  DEST, or --from PREV): only new mail is copied from the store",
  ],
  options: { incremental: { type: "boolean" }, from: { type: "string" } },
  async run(ctx: Ctx, p) {
    const [dest] = positionals(p, ["DEST"]);
    const from = str(p, "from");
    if (from !== undefined && p.values.incremental !== true) throw new UsageError("--from needs --incremental");
    const { config } = await loadCliConfig(ctx);
    if (config.blobs.url)
      throw new CommandError(
        `the blobs are in object storage (${config.blobs.url}): back the bucket up with its own versioning or replication; kotakpos backup covers an embedded database with a blobs folder`,
      );
    const dataDir = ctx.globals.dataDir;
    const paths = dataPaths(dataDir, config, ctx.globals.configFile);
    const r = await expected(() =>
      backup({
        dataDir,
        dbUrl: paths.databaseUrl,
        blobDir: paths.blobDir,
        configFile: paths.configFile,
        dest: dest!,
        incremental: p.values.incremental === true ? (from ?? true) : false,
        version: pkg.version,
        progress: (l) => ctx.io.err(l + "\n"),
      }),
    );
    const m = r.manifest;
    ctx.io.out(
      `backup ${dest}: ${m.counts.messages} messages, ${m.blobs.length} blobs (${mib(m.blobBytes)}; ${r.blobsFromStore} from the store, ${r.blobsFromPrevious} from the previous backup, ${r.linked ? "hard-linked" : "copied"}) in ${(r.ms / 1000).toFixed(1)} s\n`,
    );
  },
};

export const restoreCommand: Command = {
  name: "restore",
  summary: "restore a backup into a new data directory",
  usage: ["restore SRC --data DIR"],
  details: ["The backup is verified first; DIR must not exist or be empty. Start the server with --data DIR."],
  async run(ctx, p) {
    const [src] = positionals(p, ["SRC"]);
    if (p.values.data === undefined) throw new UsageError("restore needs --data DIR (a new, empty data directory)");
    const r = await expected(() => restore(src!, ctx.globals.dataDir, (l) => ctx.io.err(l + "\n")));
    ctx.io.out(`restored ${r.messages} messages (${r.blobs} blobs) into ${ctx.globals.dataDir} in ${(r.ms / 1000).toFixed(1)} s\n`);
  },
};

export const verifyBackupCommand: Command = {
  name: "verify-backup",
  summary: "check a backup's files, blobs and database against its manifest",
  usage: ["verify-backup SRC"],
  async run(ctx, p) {
    const [src] = positionals(p, ["SRC"]);
    const r = await expected(() => verifyBackup(src!, (l) => ctx.io.err(l + "\n")));
    for (const prob of r.problems) ctx.io.out(`problem: ${prob}\n`);
    if (r.problems.length) throw new CommandError(`backup ${src} has ${r.problems.length} problem(s)`);
    ctx.io.out(`backup ${src} is good: ${r.checkedFiles} files, ${r.checkedBlobs} blobs, made ${r.manifest.created} by kotakpos ${r.manifest.kotakpos}\n`);
  },
};
