// Before ordering: does the name reach this server? Resolve its A/AAAA records and fetch a
// one-time probe from our own challenge path at each address, as the CA's HTTP-01 check
// would (RFC 8555 §8.3). A name that fails is skipped: failed orders burn the CA's rate
// limits (Let's Encrypt: 5 failed validations per name per hour).
import type { Resolver } from "../../core/dns/index.ts";
import { DnsError } from "../../core/dns/index.ts";

export type SelfCheck = { ok: true } | { ok: false; reason: string };

export interface Probe {
  /** Serve `value` at /.well-known/acme-challenge/<token> while the check runs. */
  add(token: string, value: string): void;
  remove(token: string): void;
}

async function addresses(resolver: Resolver, name: string): Promise<{ addrs: string[]; temporary?: string }> {
  const addrs: string[] = [];
  let temporary: string | undefined;
  for (const q of [resolver.a, resolver.aaaa]) {
    try {
      addrs.push(...(await q(name)));
    } catch (e) {
      if (e instanceof DnsError && !e.temporary) continue;
      temporary = (e as Error).message;
    }
  }
  return { addrs, temporary };
}

export async function selfCheck(opts: { name: string; resolver: Resolver; port: number; probe: Probe; timeoutMs?: number }): Promise<SelfCheck> {
  const { addrs, temporary } = await addresses(opts.resolver, opts.name);
  if (addrs.length === 0) return { ok: false, reason: temporary ? `DNS lookup failed: ${temporary}` : `${opts.name} has no A or AAAA record` };
  const token = `kotakpos-selfcheck-${crypto.randomUUID()}`;
  const value = crypto.randomUUID();
  opts.probe.add(token, value);
  try {
    const seen: string[] = [];
    for (const addr of addrs) {
      const host = addr.includes(":") ? `[${addr}]` : addr;
      const url = `http://${host}:${opts.port}/.well-known/acme-challenge/${token}`;
      try {
        const r = await fetch(url, { headers: { host: opts.name }, signal: AbortSignal.timeout(opts.timeoutMs ?? 5_000), redirect: "manual" });
        if (r.ok && (await r.text()).trim() === value) return { ok: true };
        seen.push(`${addr}: HTTP ${r.status}, not our answer`);
      } catch (e) {
        seen.push(`${addr}: ${(e as Error).message}`);
      }
    }
    return { ok: false, reason: `${opts.name} does not point at this server (port ${opts.port} of ${seen.join("; ")})` };
  } finally {
    opts.probe.remove(token);
  }
}
