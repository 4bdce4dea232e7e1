// kotakpos dns DOMAIN [--json] | dns check DOMAIN [--json] | dns rotate DOMAIN [--activate|--prune]
// The plugin's command (Plugin.commands); the logic lives in records.ts / service.ts.
import type { Command } from "../../core/cli/command.ts";
import { withCore, type Ctx } from "../../core/cli/context.ts";
import { CommandError, EXIT_OK, EXIT_RUNTIME, UsageError } from "../../core/cli/errors.ts";
import { domainName } from "../../core/cli/validate.ts";
import { mailauthConfigOf } from "./config.ts";
import { formatCheck, formatZone } from "./records.ts";
import { checkDomain, NotLocalDomain, recordsForDomain, rotate, type MailauthContext } from "./service.ts";

/** The database opened directly (WAL: safe beside a running server, whose key cache
 *  picks up a rotation within a minute). */
async function withContext<T>(ctx: Ctx, fn: (m: MailauthContext) => Promise<T>): Promise<T> {
  try {
    return await withCore(ctx, ({ core }) => fn({ db: core.db, config: core.config, mcfg: mailauthConfigOf(core.config as Record<string, unknown>) }));
  } catch (e) {
    if (e instanceof NotLocalDomain) throw new CommandError(`${e.domain} is not a local domain (kotakpos domain add ${e.domain})`);
    throw e;
  }
}

export const dnsCommand: Command = {
  name: "dns",
  summary: "DNS records a domain needs (MX, SPF, DKIM, DMARC …), check them, rotate DKIM keys",
  usage: ["dns DOMAIN [--json]", "dns check DOMAIN [--json]", "dns rotate DOMAIN [--activate | --prune]"],
  details: [
    "dns DOMAIN         prints the records to create, as zone-file lines (--json: [{name, type, value}])",
    "dns check DOMAIN   queries DNS record by record: right, missing, wrong (exit 1 unless all are right)",
    "dns rotate DOMAIN  makes new DKIM keys (publish their records), --activate signs with them",
    "                   and retires the old ones, --prune deletes retired keys",
    "The DKIM keys (RSA-2048 and Ed25519) are created on first use. Set [mailauth] ipv4/ipv6",
    "in the config for the A/AAAA/PTR records; otherwise they are placeholders.",
  ],
  options: { json: { type: "boolean" }, activate: { type: "boolean" }, prune: { type: "boolean" } },
  async run(ctx, p) {
    const args = p.positionals;
    const sub = args.length === 2 ? args[0] : undefined;
    if (args.length === 0) throw new UsageError("missing DOMAIN");
    if (args.length > 2 || (sub && sub !== "check" && sub !== "rotate")) throw new UsageError(`usage: kotakpos dns [check|rotate] DOMAIN`);
    const domain = domainName(args[args.length - 1]!);
    const json = p.values.json === true;
    if (sub === "check") {
      const res = await withContext(ctx, (m) => checkDomain(m, domain));
      ctx.io.out(
        json
          ? JSON.stringify(
              res.map((c) => ({ name: c.record.name, type: c.record.type, value: c.record.value, status: c.status, found: c.found, ...(c.detail ? { detail: c.detail } : {}) })),
              null,
              2,
            ) + "\n"
          : formatCheck(res),
      );
      return res.every((c) => c.status === "right") ? EXIT_OK : EXIT_RUNTIME;
    }
    if (sub === "rotate") {
      if (p.values.activate && p.values.prune) throw new UsageError("--activate and --prune are separate steps");
      const step = p.values.activate ? "activate" : p.values.prune ? "prune" : "stage";
      const keys = await withContext(ctx, async (m) => {
        try {
          return await rotate(m, domain, step);
        } catch (e) {
          if (e instanceof NotLocalDomain) throw e;
          throw new CommandError((e as Error).message);
        }
      });
      for (const k of keys) ctx.io.out(`${k.state.padEnd(8)} ${k.algorithm.padEnd(15)} ${k.selector}._domainkey.${domain}\n`);
      if (step === "stage") ctx.io.out(`publish the staged keys' records (kotakpos dns ${domain}), then: kotakpos dns rotate ${domain} --activate\n`);
      return EXIT_OK;
    }
    const records = await withContext(ctx, (m) => recordsForDomain(m, domain));
    ctx.io.out(
      json
        ? JSON.stringify(
            records.map((r) => ({ name: r.name, type: r.type, value: r.value })),
            null,
            2,
          ) + "\n"
        : formatZone(records),
    );
    return EXIT_OK;
  },
};
