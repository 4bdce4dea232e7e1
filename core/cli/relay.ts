// kotakpos relay test — connect to the configured smarthost the way delivery does (TLS
// required and verified, AUTH), then QUIT, and say in plain words what worked.
import { resolverFromConfig } from "../dns/index.ts";
import { checkRelay } from "../delivery/relay-check.ts";
import { positionals } from "./args.ts";
import type { Command } from "./command.ts";
import { loadCliConfig } from "./context.ts";
import { CommandError } from "./errors.ts";

const test: Command = {
  name: "test",
  summary: "connect to the relay, start TLS, authenticate, and report",
  usage: ["relay test"],
  async run(ctx, p) {
    positionals(p, []);
    const { config } = await loadCliConfig(ctx);
    const r = await checkRelay(config, resolverFromConfig(config), { env: ctx.io.env });
    if (r.ok) return void ctx.io.out(`${r.lines[0]}\n`);
    // A configuration mistake is one line; connection failures are listed, then the verdict.
    if (r.lines.length === 1 && !r.lines[0]!.startsWith("failed: ")) throw new CommandError(r.lines[0]!);
    for (const m of r.lines) ctx.io.out(`${m}\n`);
    throw new CommandError("the relay cannot be used (see above); mail waits in the queue until it can");
  },
};

export const relayCommand: Command = {
  name: "relay",
  summary: "the outbound smarthost ([delivery.relay])",
  usage: ["relay test"],
  sub: [test],
};
