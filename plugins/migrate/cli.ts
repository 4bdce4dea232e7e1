// kotakpos import | migrate | export. With a server running, the job runs inside it (over
// the control socket: its Store writes, its sessions see the mail at once, one writer on
// the database) and this process shows the progress; without one it runs here.
import { resolve } from "node:path";
import { positionals, str, type Parsed } from "../../core/cli/args.ts";
import type { Command } from "../../core/cli/command.ts";
import { controlSocketPath, loadCliConfig, withCore, type Ctx } from "../../core/cli/context.ts";
import { CommandError, EXIT_OK, EXIT_RUNTIME, UsageError } from "../../core/cli/errors.ts";
import { connectControl, ControlCallError, type RemoteAdmin } from "../../core/control/client.ts";
import type { JobStatus } from "./control.ts";
import { runJob, type JobSpec } from "./jobs.ts";
import { parseImapUrl } from "./imap.ts";
import { createProgress, formatReport } from "./progress.ts";
import { JobError, type Report } from "./types.ts";

const POLL_MS = 250;

/** Ctrl-C stops the run after the batch in flight (a later run resumes). */
function interruptible(): { signal: AbortSignal; release(): void } {
  const ac = new AbortController();
  const onSig = () => ac.abort();
  process.on("SIGINT", onSig);
  process.on("SIGTERM", onSig);
  return { signal: ac.signal, release: () => (process.off("SIGINT", onSig), process.off("SIGTERM", onSig)) };
}

async function viaServer(remote: RemoteAdmin, spec: JobSpec, show: ReturnType<typeof createProgress>, signal: AbortSignal): Promise<Report> {
  let id: string;
  try {
    id = String(await remote.call("migrate.start", spec));
  } catch (e) {
    if (e instanceof ControlCallError && /unknown (control|admin) method/.test(e.message)) throw new CommandError("the running server has the migrate plugin disabled");
    throw e;
  }
  let cancelled = false;
  for (;;) {
    if (signal.aborted && !cancelled) {
      cancelled = true;
      await remote.call("migrate.cancel", id);
    }
    const st = (await remote.call("migrate.status", id)) as JobStatus;
    show.setTotals(st.totals);
    show.update(st.counts);
    if (st.done) {
      if (st.error) throw new JobError(st.error);
      return st.report!;
    }
    await Bun.sleep(POLL_MS);
  }
}

async function run(ctx: Ctx, spec: JobSpec): Promise<number> {
  const loaded = await loadCliConfig(ctx);
  if (loaded.config.plugins.disabled.includes("migrate")) throw new CommandError("the migrate plugin is disabled in the config");
  const show = createProgress((s) => ctx.io.err(s), { tty: Boolean(ctx.io.errIsTTY) });
  const stop = interruptible();
  let report: Report;
  try {
    const remote = await connectControl(controlSocketPath(ctx.globals.dataDir));
    if (remote) {
      try {
        report = await viaServer(remote, spec, show, stop.signal);
      } finally {
        remote.close();
      }
    } else {
      report = await withCore(
        ctx,
        ({ core }) => runJob(spec, { store: core.store, db: core.db }, { onProgress: (c) => show.update(c), onTotals: (t) => show.setTotals(t), signal: stop.signal }),
        loaded,
      );
    }
  } catch (e) {
    if (e instanceof JobError || e instanceof ControlCallError) throw new CommandError(e.message);
    throw e;
  } finally {
    show.done();
    stop.release();
  }
  ctx.io.out(formatReport(report));
  if (stop.signal.aborted) {
    ctx.io.err(`kotakpos: interrupted; run the same command again to continue\n`);
    return EXIT_RUNTIME;
  }
  return EXIT_OK;
}

export const importCommand: Command = {
  name: "import",
  summary: "import mail from an mbox file, a Maildir or a folder of .eml files",
  usage: ["import ADDRESS PATH [--mailbox NAME]"],
  details: [
    "PATH  an mbox file (mboxrd/mboxo: Thunderbird, mutt, Google Takeout — X-Gmail-Labels become",
    "      folders), a Maildir (flags, Maildir++ subfolders, Dovecot keywords), a folder of .eml",
    "      (and .mbox) files, or one message file. Received dates become INTERNALDATE.",
    "--mailbox NAME  the mailbox for PATH's top level (default INBOX)",
    "A message already in its mailbox (the same bytes) is not added again: a second run adds",
    "only what is new. The report ends with found = imported + skipped + already there.",
  ],
  options: { mailbox: { type: "string" } },
  async run(ctx, p: Parsed) {
    const [address, path] = positionals(p, ["ADDRESS", "PATH"]);
    return run(ctx, { kind: "import", address: address!, path: resolve(path!), mailbox: str(p, "mailbox") });
  },
};

export const migrateCommand: Command = {
  name: "migrate",
  summary: "copy a whole account from another IMAP server (resumable; run again for what is new)",
  usage: ["migrate ADDRESS imaps://USER@HOST[:PORT] [--password-stdin] [--insecure]"],
  details: [
    "imaps:// uses TLS from the start (port 993); imap:// (port 143) uses STARTTLS when offered.",
    "--password-stdin  read the source password from standard input (else it is asked for)",
    "--insecure        accept a source certificate that does not verify (self-signed)",
    "Folders keep their hierarchy, special-use roles and subscriptions; messages their flags,",
    "keywords and INTERNALDATE. What was copied is remembered, so an interrupted run continues",
    "and a later run copies only new mail. Gmail's All Mail lands in Archive without duplicates.",
  ],
  options: { "password-stdin": { type: "boolean" }, insecure: { type: "boolean" } },
  async run(ctx, p: Parsed) {
    const [address, url] = positionals(p, ["ADDRESS", "URL"]);
    let parsed;
    try {
      parsed = parseImapUrl(url!);
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
    let password = parsed.password ?? "";
    if (p.values["password-stdin"]) password = (await ctx.io.readStdin()).replace(/\r?\n[\s\S]*$/, "");
    else if (!password) {
      const typed = await ctx.io.promptHidden(`Password for ${parsed.user} at ${parsed.host}: `);
      if (typed === null) throw new UsageError("no password: give --password-stdin or run on a terminal");
      password = typed;
    }
    return run(ctx, { kind: "migrate", address: address!, url: url!, password, insecure: p.values.insecure === true });
  },
};

export const exportCommand: Command = {
  name: "export",
  summary: "export a whole account as a Maildir or as mbox files",
  usage: ["export ADDRESS DEST --format maildir|mbox"],
  details: [
    "maildir  DEST is a Maildir++ tree (flags in file names, Dovecot keywords, dates as mtime)",
    "mbox     DEST/<mailbox>.mbox per mailbox (mboxrd; flags in Status/X-Status/X-Keywords)",
    "DEST must not exist or be empty. `kotakpos import` reads both back.",
  ],
  options: { format: { type: "string" } },
  async run(ctx, p: Parsed) {
    const [address, dest] = positionals(p, ["ADDRESS", "DEST"]);
    const format = str(p, "format");
    if (format !== "maildir" && format !== "mbox") throw new UsageError("--format must be maildir or mbox");
    return run(ctx, { kind: "export", address: address!, dest: resolve(dest!), format });
  },
};
