// kotakpos alias add|list|del — rows of the aliases table (core/db/schema.ts), which the
// aliases plugin expands at RCPT time.
import type { AliasInsert, AliasRow } from "../control/api.ts";
import { positionals, type OptionSpec, type Parsed } from "./args.ts";
import type { Command } from "./command.ts";
import { withAdmin } from "./context.ts";
import { CommandError, UsageError } from "./errors.ts";
import { domainName, mailAddress } from "./validate.ts";

/** The alias address: "local@domain" or "@domain" (catch-all), domain lower-cased. */
export function aliasAddress(raw: string): { address: string; domain: string } {
  if (raw.startsWith("@")) {
    const domain = domainName(raw.slice(1));
    return { address: `@${domain}`, domain };
  }
  const { address, domain } = mailAddress(raw);
  return { address: address.toLowerCase(), domain };
}

// ---- extension point for `alias add` options (--group, --members-only, --sender …) ----
// Add an option to ALIAS_ADD_OPTIONS, its help line to ALIAS_ADD_HELP, and its effect on
// the row in aliasRowOptions. Nothing else in this file needs to change.

export const ALIAS_ADD_OPTIONS: OptionSpec = {};

export const ALIAS_ADD_HELP: string[] = [];

/** Row fields (kind, membersOnly, senders …) from the options of `alias add`. */
export function aliasRowOptions(_p: Parsed): Partial<AliasInsert> {
  return {};
}

/** How one alias row is shown by `alias list` (kind and flags after the targets). */
export function formatAlias(row: AliasRow): string {
  const targets = JSON.parse(row.targets) as string[];
  const extra: string[] = [];
  if (row.kind !== "alias") extra.push(row.kind);
  if (row.membersOnly) extra.push("members-only");
  const senders = JSON.parse(row.senders) as string[];
  if (senders.length) extra.push(`senders: ${senders.join(", ")}`);
  return `${row.address} -> ${targets.join(", ")}${extra.length ? `  (${extra.join("; ")})` : ""}`;
}

// ---- commands ----

const add: Command = {
  name: "add",
  summary: "forward an address (or @domain, a catch-all) to one or more targets",
  usage: ["alias add ADDRESS TARGET..."],
  get details() {
    return ALIAS_ADD_HELP.length ? ["Options:", ...ALIAS_ADD_HELP] : undefined;
  },
  get options() {
    return ALIAS_ADD_OPTIONS;
  },
  async run(ctx, p) {
    const [raw, ...rawTargets] = positionals(p, ["ADDRESS", "TARGET"], { rest: true });
    const { address, domain } = aliasAddress(raw!);
    const targets = [...new Set(rawTargets.map((t) => mailAddress(t).address))];
    if (targets.includes(address)) throw new UsageError(`${address} cannot be its own target`);
    const row: AliasInsert = { address, targets: JSON.stringify(targets), createdAt: Date.now(), ...aliasRowOptions(p) };
    await withAdmin(ctx, async (api) => {
      if (!(await api.isLocalDomain(domain))) throw new CommandError(`no domain ${domain} (add it first: kotakpos domain add ${domain})`);
      if (address !== `@${domain}` && (await api.accountExists(address))) throw new CommandError(`${address} is a user; an alias cannot shadow it`);
      if (!(await api.addAlias(row))) throw new CommandError(`alias ${address} already exists (delete it first)`);
    });
    ctx.io.out(`added alias ${address} -> ${targets.join(", ")}\n`);
  },
};

const list: Command = {
  name: "list",
  summary: "list aliases",
  usage: ["alias list"],
  async run(ctx, p) {
    positionals(p, []);
    const rows = await withAdmin(ctx, (api) => api.listAliases());
    for (const r of rows) ctx.io.out(formatAlias(r) + "\n");
  },
};

const del: Command = {
  name: "del",
  summary: "delete an alias",
  usage: ["alias del ADDRESS"],
  async run(ctx, p) {
    const [raw] = positionals(p, ["ADDRESS"]);
    const { address } = aliasAddress(raw!);
    const gone = await withAdmin(ctx, (api) => api.deleteAlias(address));
    if (!gone) throw new CommandError(`no alias ${address}`);
    ctx.io.out(`deleted alias ${address}\n`);
  },
};

export const aliasCommand: Command = {
  name: "alias",
  summary: "manage aliases (forwarding addresses, catch-alls)",
  usage: ["alias add ADDRESS TARGET...", "alias list", "alias del ADDRESS"],
  sub: [add, list, del],
};
