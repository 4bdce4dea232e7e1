// kotakpos ratelimit held|release — accounts held after a burst of mail to new recipients
// and their held outbound mail; on the admin methods (methods.ts), through the running
// server or the database directly.
import { pluginAdmin } from "../../core/control/api.ts";
import { positionals } from "../../core/cli/args.ts";
import type { Command } from "../../core/cli/command.ts";
import { withAdmin } from "../../core/cli/context.ts";
import { CommandError } from "../../core/cli/errors.ts";
import { mailAddress } from "../../core/cli/validate.ts";
import type { RatelimitAdmin } from "./methods.ts";

const when = (ms: number): string => new Date(ms).toISOString().replace(/\.\d+Z$/, "Z");

const held: Command = {
  name: "held",
  summary: "accounts held after a burst, with their held outbound mail",
  usage: ["ratelimit held"],
  async run(ctx, p) {
    positionals(p, []);
    const list = await withAdmin(ctx, (api) => pluginAdmin<RatelimitAdmin>(api, "ratelimit").held());
    if (list.length === 0) ctx.io.out("no account is held\n");
    for (const a of list) {
      ctx.io.out(`${a.address}\theld since ${when(a.at)}${a.until === null ? " until released" : ` until ${when(a.until)}`}\t${a.reason}${a.ip ? ` (from ${a.ip})` : ""}\n`);
      for (const e of a.messages) ctx.io.out(`  ${e.id}\t${e.recipient}\tqueued ${when(e.createdAt)}\n`);
    }
  },
};

const release: Command = {
  name: "release",
  summary: "end an account's hold: it may send again and its held mail is delivered",
  usage: ["ratelimit release ADDRESS"],
  details: ["To drop a held message instead of delivering it: kotakpos queue delete ID."],
  async run(ctx, p) {
    const [raw] = positionals(p, ["ADDRESS"]);
    const { address } = mailAddress(raw!);
    const r = await withAdmin(ctx, (api) => pluginAdmin<RatelimitAdmin>(api, "ratelimit").release(address));
    if (!r) throw new CommandError(`no account ${address}`);
    ctx.io.out(`${r.address} ${r.wasHeld ? "released" : "was not held"}; ${r.rows} held recipient(s) due now\n`);
  },
};

export const ratelimitCli: Command = {
  name: "ratelimit",
  summary: "accounts held after a burst of mail to new recipients",
  usage: ["ratelimit held", "ratelimit release ADDRESS"],
  sub: [held, release],
};
