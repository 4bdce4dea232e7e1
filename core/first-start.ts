// The first start's one-time work, then a fresh start of the same program in the same
// process (DESIGN.md "Memory"). Creating and migrating the database and generating the
// self-signed certificate leave ~2 MiB in a process's resident memory for its whole life
// (SQLite's and the allocator's heap after the migration, the crypto library's
// key-generation state). So `serve` does that work, then replaces itself (execve: same pid,
// same streams, nothing left of the old heap) and starts as on any later day. A child
// process would do as well but the spawn alone costs the server ~0.5 MiB. If the exec
// fails, this process simply goes on serving.
import { existsSync } from "node:fs";
import type { Config } from "./config.ts";
import { filePath, openDb } from "./db/open.ts";
import { execProcess } from "./exec.ts";
import { createHooks } from "./hooks.ts";
import { dataPaths } from "./paths.ts";
import { createTls } from "./tls.ts";
import type { Logger } from "./types.ts";

/** Is this the first start: an embedded database whose file does not exist yet? */
export function isFirstStart(dataDir: string, config: Config): boolean {
  const path = filePath(dataPaths(dataDir, config).databaseUrl);
  return path !== null && !existsSync(path);
}

/** The one-time work: the database created and migrated, the certificate made and stored. */
export async function prepareDataDir(dataDir: string, config: Config, log: Logger): Promise<void> {
  const paths = dataPaths(dataDir, config);
  const db = await openDb({ url: paths.databaseUrl, authToken: paths.databaseAuthToken, log });
  try {
    // No plugin hooks here: the self-signed fallback is made whatever a plugin serves later.
    const tls = await createTls({ db, hooks: createHooks(log), log, hostname: config.hostname, certFile: config.tls.certFile, keyFile: config.tls.keyFile });
    tls.close();
  } finally {
    await db.close();
  }
}

/** Prepare the data directory, then run `command` (this `serve` again) in this process.
 *  Returns only if the exec failed (logged); the caller then serves as it is. */
export async function firstStart(dataDir: string, config: Config, log: Logger, command: string[]): Promise<void> {
  await prepareDataDir(dataDir, config, log);
  if (process.platform !== "linux") return; // exec.ts knows Linux's C library only
  log.info("first start: data directory prepared; starting afresh in this process");
  // What is written reaches the stream before the process image is replaced.
  await new Promise<void>((r) => process.stdout.write("", () => r()));
  await new Promise<void>((r) => process.stderr.write("", () => r()));
  const why = execProcess(command, process.env);
  log.warn("could not restart after the first start's work: serving from this process", { err: why });
}
