// kotakpos queue list|show|retry|bounce|delete — the outbound spool, through the Spool API.
import type { QueueEntry } from "../spool/types.ts";
import { positionals } from "./args.ts";
import type { Command } from "./command.ts";
import { withAdmin } from "./context.ts";
import { CommandError } from "./errors.ts";

const when = (ms: number): string => new Date(ms).toISOString().replace(/\.\d+Z$/, "Z");

function row(e: QueueEntry): string {
  return [e.id, e.status, String(e.attempts), when(e.nextAttempt), e.recipient].join("\t") + (e.lastError ? `\t${e.lastError.replace(/\s+/g, " ")}` : "");
}

const list: Command = {
  name: "list",
  summary: "list queued recipients (id, status, attempts, next attempt, recipient, last error)",
  usage: ["queue list"],
  async run(ctx, p) {
    positionals(p, []);
    const entries = await withAdmin(ctx, (api) => api.queueList());
    for (const e of entries) ctx.io.out(row(e) + "\n");
  },
};

const show: Command = {
  name: "show",
  summary: "show every recipient of one queued message",
  usage: ["queue show ID"],
  async run(ctx, p) {
    const [id] = positionals(p, ["ID"]);
    const entries = await withAdmin(ctx, (api) => api.queueGet(id!));
    if (!entries.length) throw new CommandError(`no queued message ${id}`);
    const e0 = entries[0]!;
    ctx.io.out(`id: ${e0.id}\nfrom: ${e0.mailFrom || "<>"}\nsize: ${e0.size}\nqueued: ${when(e0.createdAt)}\n`);
    for (const e of entries) {
      ctx.io.out(`rcpt: ${e.recipient}  status=${e.status} attempts=${e.attempts} next=${when(e.nextAttempt)}${e.lastError ? ` error=${JSON.stringify(e.lastError)}` : ""}\n`);
    }
  },
};

const retry: Command = {
  name: "retry",
  summary: "make a deferred message due now",
  usage: ["queue retry ID"],
  async run(ctx, p) {
    const [id] = positionals(p, ["ID"]);
    const n = await withAdmin(ctx, (api) => api.queueRetry(id!));
    if (!n) throw new CommandError(`no deferred recipients of ${id}`);
    ctx.io.out(`${n} recipient(s) of ${id} due now\n`);
  },
};

const del: Command = {
  name: "delete",
  summary: "remove a message from the queue (no bounce is sent)",
  usage: ["queue delete ID"],
  async run(ctx, p) {
    const [id] = positionals(p, ["ID"]);
    const n = await withAdmin(ctx, (api) => api.queueDelete(id!));
    if (!n) throw new CommandError(`no queued message ${id}`);
    ctx.io.out(`deleted ${n} recipient(s) of ${id}\n`);
  },
};

const bounce: Command = {
  name: "bounce",
  summary: "give up on a message now: its sender gets the failure notice (needs the running server)",
  usage: ["queue bounce ID"],
  async run(ctx, p) {
    const [id] = positionals(p, ["ID"]);
    let n: number;
    try {
      n = await withAdmin(ctx, (api) => api.queueBounce(id!));
    } catch (e) {
      throw new CommandError((e as Error).message);
    }
    if (!n) throw new CommandError(`no waiting recipients of ${id}`);
    ctx.io.out(`bounced ${n} recipient(s) of ${id}; the sender is told\n`);
  },
};

export const queueCommand: Command = {
  name: "queue",
  summary: "inspect and manage the outbound queue",
  usage: ["queue list", "queue show ID", "queue retry ID", "queue bounce ID", "queue delete ID"],
  sub: [list, show, retry, bounce, del],
};
