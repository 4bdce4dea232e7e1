// kotakpos relay test — connect to the configured smarthost the way delivery does (TLS
// required and verified, AUTH), then QUIT, and say in plain words what worked.
import { resolverFromConfig } from "../dns/index.ts";
import { hostAddresses } from "../delivery/mx.ts";
import { RelayConfigError, relayHops, relaySpec } from "../delivery/relay.ts";
import { connectSmtp } from "../delivery/smtp-client.ts";
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
    let hops;
    try {
      const spec = relaySpec(config.delivery.relay, ctx.io.env);
      if (!spec) throw new CommandError("no relay is configured: set delivery.relay.url (or delivery.relay.preset) in the config");
      hops = relayHops(spec, ctx.io.env);
    } catch (e) {
      throw e instanceof RelayConfigError ? new CommandError(e.message) : e;
    }
    const resolver = resolverFromConfig(config);
    const problems: string[] = [];
    for (const hop of hops) {
      const { addresses, temporary } = await hostAddresses(hop.host, resolver);
      if (addresses.length === 0) {
        problems.push(`${hop.host}: no address (${temporary ?? "the name does not resolve"})`);
        continue;
      }
      for (const address of addresses) {
        try {
          const c = await connectSmtp({
            address,
            port: hop.port!,
            hostname: hop.host,
            helo: config.hostname,
            tls: "required",
            verifyTls: hop.verifyTls,
            implicitTls: hop.implicitTls,
            auth: hop.auth,
            ca: hop.ca,
            timeouts: { connect: 10_000, greeting: 30_000, command: 30_000 },
          });
          await c.quit();
          const tls = `${hop.implicitTls ? "TLS" : "STARTTLS"}, certificate verified`;
          ctx.io.out(`ok: ${hop.host}:${hop.port} (${address}) — ${tls}, ${hop.auth ? `logged in as ${hop.auth.username}` : "no AUTH configured"}\n`);
          return;
        } catch (e) {
          problems.push((e as Error).message);
        }
      }
    }
    for (const m of problems) ctx.io.out(`failed: ${m}\n`);
    throw new CommandError("the relay cannot be used (see above); mail waits in the queue until it can");
  },
};

export const relayCommand: Command = {
  name: "relay",
  summary: "the outbound smarthost ([delivery.relay])",
  usage: ["relay test"],
  sub: [test],
};
