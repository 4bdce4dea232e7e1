// One run of import, migrate or export, the same code whether it runs in the CLI's own
// process (no server) or inside a running server (started over the control socket, so
// the server's own Store writes the mail: IMAP IDLE sessions see it at once and there is
// one writer on the database).
import type { Db } from "../../core/db/open.ts";
import type { Store } from "../../core/store/types.ts";
import { exportAccount, type ExportFormat } from "./export.ts";
import { openFileSource } from "./files.ts";
import { migrateFromImap } from "./imap.ts";
import { runImport } from "./writer.ts";
import { JobError, type Counts, type Report, type SourceTotals } from "./types.ts";

export type JobSpec =
  | { kind: "import"; address: string; path: string; mailbox?: string }
  | { kind: "migrate"; address: string; url: string; password: string; insecure?: boolean }
  | { kind: "export"; address: string; dest: string; format: ExportFormat };

export interface JobDeps {
  store: Store;
  db: Db;
}

export interface JobHooks {
  onProgress(c: Counts): void;
  onTotals(t: SourceTotals): void;
  signal: AbortSignal;
}

export async function runJob(spec: JobSpec, deps: JobDeps, hooks: JobHooks): Promise<Report> {
  const account = await deps.store.getAccount(spec.address);
  if (!account) throw new JobError(`no account ${spec.address}`);
  if (spec.kind === "export") {
    const started = Date.now();
    const c = await exportAccount(deps.store, account.id, spec.dest, spec.format, hooks.onProgress);
    return { ...c, skippedList: [], notes: [], folders: c.mailboxes, seconds: (Date.now() - started) / 1000 };
  }
  if (spec.kind === "import") {
    const src = openFileSource(spec.path, spec.mailbox ?? "INBOX");
    hooks.onTotals(src.totals);
    return runImport(src.events, { store: deps.store, accountId: account.id, onProgress: hooks.onProgress, signal: hooks.signal });
  }
  return migrateFromImap({ ...spec, accountId: account.id, store: deps.store, db: deps.db, ...hooks });
}
