// kotakpos check [DOMAIN] [--json]: the wizard's checks from the command line (for people
// on SSH). Exit 0 when every check passes, 1 otherwise. Contributed by the plugin (Plugin.commands).
import type { Command } from "../../core/cli/command.ts";
import { loadCliConfig } from "../../core/cli/context.ts";
import { EXIT_OK, EXIT_RUNTIME, UsageError } from "../../core/cli/errors.ts";
import { domainName } from "../../core/cli/validate.ts";
import { createLogger } from "../../core/log.ts";
import { openCore } from "../../core/open.ts";
import { overall, runChecks, type CheckResult } from "./checks.ts";
import { consoleConfigOf } from "./config.ts";
import { checksEnvOf } from "./env.ts";

const MARK = { pass: "PASS", warn: "WARN", fail: "FAIL", unknown: "????" } as const;

export function formatChecks(results: CheckResult[]): string {
  const lines: string[] = [];
  for (const r of results) {
    lines.push(`${MARK[r.status]}  ${r.title}: ${r.summary}`);
    for (const i of r.items ?? [])
      if (i.status !== "pass") lines.push(`      ${MARK[i.status]} ${i.label}${i.expected !== undefined ? `  want: ${i.expected}  have: ${i.actual}` : i.note ? `  ${i.note}` : ""}`);
    if (r.fix) lines.push(`      fix: ${r.fix}`);
  }
  const bad = results.filter((r) => r.status !== "pass").length;
  lines.push(bad === 0 ? "all checks pass" : `${bad} of ${results.length} checks need attention`);
  return lines.join("\n") + "\n";
}

export const checkCommand: Command = {
  name: "check",
  summary: "check the host name, reverse DNS, port 25, blocklists and DNS records",
  usage: ["check [DOMAIN] [--json]"],
  details: [
    "The same checks as the setup wizard and the health page: host name and its A/AAAA records",
    "(NAT noticed), reverse DNS of each public address, outbound port 25, DNS blocklists",
    "(IPv4 and IPv6 apart; an answer 127.255.255.x is 'could not check'), and every DNS record",
    "of DOMAIN (default: all local domains). Exit 0 when all pass, 1 otherwise.",
  ],
  options: { json: { type: "boolean" } },
  async run(ctx, p) {
    if (p.positionals.length > 1) throw new UsageError("usage: kotakpos check [DOMAIN] [--json]");
    const only = p.positionals[0] !== undefined ? domainName(p.positionals[0]) : undefined;
    const { config, plugins } = await loadCliConfig(ctx);
    let results: CheckResult[] = [];
    // The plugins set up as in a dry run (nothing bound), for their dns.records handlers.
    const opened = await openCore({
      dataDir: ctx.globals.dataDir,
      config,
      mode: "dry-run",
      plugins,
      log: createLogger(config.log.level === "debug" ? "debug" : "error"),
      use: async (core) => {
        const domains = only ? [only] : (await core.store.listDomains()).map((d) => d.name);
        results = await runChecks(await checksEnvOf(core, consoleConfigOf(config as unknown as Record<string, unknown>)), domains);
      },
    });
    await opened.close();
    ctx.io.out(p.values.json === true ? JSON.stringify({ status: overall(results), checks: results }, null, 2) + "\n" : formatChecks(results));
    return overall(results) === "pass" ? EXIT_OK : EXIT_RUNTIME;
  },
};
