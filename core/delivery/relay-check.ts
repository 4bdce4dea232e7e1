// The relay check behind `kotakpos relay test` and the setup wizard's "Test" button:
// connect to the smarthost the way delivery does (TLS required and verified, AUTH), then
// QUIT, and say in plain words what worked or what did not.
import type { Config } from "../config.ts";
import type { Resolver } from "../dns/index.ts";
import { hostAddresses } from "./mx.ts";
import { RelayConfigError, relayHops, relaySpec, type RelayConfig } from "./relay.ts";
import { connectSmtp } from "./smtp-client.ts";

export interface RelayCheck {
  ok: boolean;
  /** "ok: host:port (address) — STARTTLS, certificate verified, logged in as …", or each failure. */
  lines: string[];
}

/** Check `relay` (default: the configured one); `env` supplies $KOTAKPOS_RELAY_PASSWORD. */
export async function checkRelay(config: Config, resolver: Resolver, opts: { relay?: RelayConfig; env?: Record<string, string | undefined>; timeoutMs?: number } = {}): Promise<RelayCheck> {
  const env = opts.env ?? process.env;
  const relay = opts.relay ?? config.delivery.relay;
  let hops;
  try {
    const spec = relaySpec(relay, env);
    if (!spec) return { ok: false, lines: ["no relay is configured: set delivery.relay.url (or delivery.relay.preset) in the config"] };
    hops = relayHops(spec, env);
  } catch (e) {
    if (e instanceof RelayConfigError) return { ok: false, lines: [e.message] };
    throw e;
  }
  const t = opts.timeoutMs ?? 10_000;
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
          timeouts: { connect: t, greeting: 3 * t, command: 3 * t },
        });
        await c.quit();
        const tls = `${hop.implicitTls ? "TLS" : "STARTTLS"}, certificate verified`;
        return { ok: true, lines: [`ok: ${hop.host}:${hop.port} (${address}) — ${tls}, ${hop.auth ? `logged in as ${hop.auth.username}` : "no AUTH configured"}`] };
      } catch (e) {
        problems.push((e as Error).message);
      }
    }
  }
  return { ok: false, lines: problems.map((m) => `failed: ${m}`) };
}
