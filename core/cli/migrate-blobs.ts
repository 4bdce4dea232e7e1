// kotakpos migrate-blobs --to s3://bucket/prefix | --to FOLDER [--from LOCATION]
import { openDb } from "../db/open.ts";
import { dataPaths } from "../paths.ts";
import { configuredLocation, openBlobsAt, parseBlobLocation, type BlobLocation } from "../store/blob-backend.ts";
import { migrateBlobs } from "../store/blob-migrate.ts";
import { str } from "./args.ts";
import type { Command } from "./command.ts";
import { loadCliConfig } from "./context.ts";
import { CommandError, UsageError } from "./errors.ts";

const where = (l: BlobLocation) => (l.kind === "s3" ? l.url : l.dir);

export const migrateBlobsCommand: Command = {
  name: "migrate-blobs",
  summary: "copy the message blobs to S3 or to a folder (and back), while serving",
  usage: ["migrate-blobs --to s3://BUCKET/PREFIX", "migrate-blobs --to FOLDER [--from LOCATION]"],
  details: [
    "Copies every blob the database references from where the config keeps them (or --from)",
    "to the target, skipping those already there: run it again after an interruption. The",
    "source is left as it is and the server goes on reading it. Then set `blobs.url` (or",
    "`blobs.path`) to the target and `blobs.previous` to the old place, restart, run this",
    "command once more (--from the old place) and remove the old place and `blobs.previous`.",
    "S3 endpoint, region and credentials come from the [blobs] section and the environment.",
  ],
  options: { to: { type: "string" }, from: { type: "string" } },
  async run(ctx, p) {
    const toSpec = str(p, "to");
    if (!toSpec) throw new UsageError("migrate-blobs needs --to s3://BUCKET/PREFIX or --to FOLDER");
    const { config } = await loadCliConfig(ctx);
    const dataDir = ctx.globals.dataDir;
    let to: BlobLocation;
    let fromLoc: BlobLocation;
    try {
      to = parseBlobLocation(toSpec);
      const fromSpec = str(p, "from");
      fromLoc = fromSpec ? parseBlobLocation(fromSpec) : configuredLocation(config, dataDir);
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
    if (where(to) === where(fromLoc)) throw new UsageError(`the blobs are already in ${where(to)}`);
    const paths = dataPaths(dataDir, config, ctx.globals.configFile);
    const db = await openDb({ url: paths.databaseUrl, authToken: paths.databaseAuthToken });
    const source = await openBlobsAt(fromLoc, config, ctx.io.env);
    const target = await openBlobsAt(to, config, ctx.io.env);
    const t0 = Date.now();
    try {
      const r = await migrateBlobs(db, source, target, (l) => ctx.io.err(`${l}\n`));
      ctx.io.out(
        `migrate-blobs ${where(fromLoc)} → ${where(to)}: ${r.copied} copied (${(r.bytes / 1024 / 1024).toFixed(1)} MiB), ${r.present} already there, ${r.missing.length} missing, in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`,
      );
      if (r.missing.length) ctx.io.err(`missing from both places: ${r.missing.slice(0, 10).join(", ")}${r.missing.length > 10 ? " …" : ""}\n`);
    } catch (e) {
      throw new CommandError(`migrate-blobs: ${(e as Error).message}`);
    } finally {
      source.close();
      target.close();
      await db.close();
    }
  },
};
