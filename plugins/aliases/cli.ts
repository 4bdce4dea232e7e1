// kotakpos alias add|list|del|domain — the aliases plugin's command (Plugin.commands), on
// its admin methods (methods.ts) through the running server or the database directly.
import { pluginAdmin, type AdminApi } from "../../core/control/api.ts";
import { positionals, type OptionSpec, type Parsed } from "../../core/cli/args.ts";
import type { Command } from "../../core/cli/command.ts";
import { withAdmin, type Ctx } from "../../core/cli/context.ts";
import { CommandError, UsageError } from "../../core/cli/errors.ts";
import { domainName, mailAddress } from "../../core/cli/validate.ts";
import type { AliasDbRow as AliasRow, AliasesAdmin, AliasInsert } from "./methods.ts";

/** The aliases admin methods of the running server, or of the database opened directly. */
const withAliases = <T>(ctx: Ctx, fn: (a: AliasesAdmin, api: AdminApi) => Promise<T>): Promise<T> => withAdmin(ctx, (api) => fn(pluginAdmin<AliasesAdmin>(api, "aliases"), api));

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

export const ALIAS_ADD_OPTIONS: OptionSpec = {
  group: { type: "boolean" },
  "members-only": { type: "boolean" },
  sender: { type: "string", multiple: true },
  append: { type: "boolean" },
  replace: { type: "boolean" },
};

export const ALIAS_ADD_HELP: string[] = [
  "  --group            a distribution list (members are the targets)",
  "  --members-only     a group only its members may send to (others get 550 5.7.1)",
  "  --sender USER      USER may send as this address (repeatable)",
  "  --append           add the targets (and senders) to an existing alias",
  "  --replace          replace the targets (and senders) of an existing alias",
  "",
  "ADDRESS @domain is the domain's catch-all (off until added). A target may be a user,",
  "another alias or an outside address (forwarded with SRS). An alias of a user's own",
  "address must list the user among its targets (forward and keep a copy). Loops, unknown",
  "targets and nesting deeper than [aliases] maxDepth are refused.",
];

/** Row fields (kind, membersOnly, senders …) from the options of `alias add`. */
export function aliasRowOptions(p: Parsed): Partial<AliasInsert> {
  const row: Partial<AliasInsert> = {};
  if (p.values.group) row.kind = "group";
  if (p.values["members-only"]) Object.assign(row, { kind: "group", membersOnly: true });
  const senders = p.values.sender;
  if (Array.isArray(senders) && senders.length) row.senders = JSON.stringify(senders.map((x) => mailAddress(String(x)).address));
  return row;
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
    if (p.values.append && p.values.replace) throw new UsageError("--append and --replace exclude each other");
    const mode = p.values.append ? "append" : p.values.replace ? "replace" : "create";
    const row: AliasInsert = { address, targets: JSON.stringify(targets), createdAt: Date.now(), ...aliasRowOptions(p) };
    await withAliases(ctx, async (aliases, api) => {
      if (!(await api.isLocalDomain(domain))) throw new CommandError(`no domain ${domain} (add it first: kotakpos domain add ${domain})`);
      // The plugin's admin checks the rest: users shadowed, unknown targets, loops.
      if (!(await aliases.add(row, mode))) throw new CommandError(`alias ${address} already exists (delete it first)`);
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
    const rows = await withAliases(ctx, (a) => a.list());
    for (const r of rows) ctx.io.out(formatAlias(r) + "\n");
  },
};

const del: Command = {
  name: "del",
  summary: "delete an alias, or only some of its targets",
  usage: ["alias del ADDRESS [TARGET...]"],
  async run(ctx, p) {
    const [raw, ...rawTargets] = positionals(p, ["ADDRESS"], { rest: true });
    const { address } = aliasAddress(raw!);
    const targets = rawTargets.map((t) => mailAddress(t).address);
    const gone = await withAliases(ctx, (a) => a.delete(address, targets));
    if (!gone) throw new CommandError(`no alias ${address}`);
    ctx.io.out(targets.length ? `removed ${targets.join(", ")} from ${address}\n` : `deleted alias ${address}\n`);
  },
};

const domainAdd: Command = {
  name: "add",
  summary: "make every address of one domain an address of another",
  usage: ["alias domain add ALIAS-DOMAIN TARGET-DOMAIN"],
  async run(ctx, p) {
    const [rawAlias, rawTarget] = positionals(p, ["ALIAS-DOMAIN", "TARGET-DOMAIN"]);
    const r = await withAliases(ctx, (a) => a.addDomain(domainName(rawAlias!), domainName(rawTarget!)));
    ctx.io.out(`added domain alias ${r.domain} -> ${r.target}\n`);
  },
};

const domainList: Command = {
  name: "list",
  summary: "list domain aliases",
  usage: ["alias domain list"],
  async run(ctx, p) {
    positionals(p, []);
    for (const d of await withAliases(ctx, (a) => a.listDomains())) ctx.io.out(`${d.domain} -> ${d.target}\n`);
  },
};

const domainDel: Command = {
  name: "del",
  summary: "delete a domain alias",
  usage: ["alias domain del ALIAS-DOMAIN"],
  async run(ctx, p) {
    const [raw] = positionals(p, ["ALIAS-DOMAIN"]);
    const name = domainName(raw!);
    if (!(await withAliases(ctx, (a) => a.deleteDomain(name)))) throw new CommandError(`no domain alias ${name}`);
    ctx.io.out(`deleted domain alias ${name}\n`);
  },
};

const domain: Command = {
  name: "domain",
  summary: "domain aliases (example.org mirrors example.com)",
  usage: ["alias domain add ALIAS-DOMAIN TARGET-DOMAIN", "alias domain list", "alias domain del ALIAS-DOMAIN"],
  sub: [domainAdd, domainList, domainDel],
};

export const aliasCommand: Command = {
  name: "alias",
  summary: "manage aliases (forwarding addresses, groups, catch-alls, domain aliases)",
  usage: ["alias add ADDRESS TARGET... [--group] [--members-only] [--sender USER]... [--append|--replace]", "alias list", "alias del ADDRESS [TARGET...]", "alias domain add|list|del ..."],
  sub: [add, list, del, domain],
};
