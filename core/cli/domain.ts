// kotakpos domain add|list|del
import { positionals } from "./args.ts";
import type { Command } from "./command.ts";
import { withAdmin } from "./context.ts";
import { CommandError } from "./errors.ts";
import { domainName } from "./validate.ts";

const add: Command = {
  name: "add",
  summary: "add a local domain (mail to it is delivered here)",
  usage: ["domain add NAME"],
  async run(ctx, p) {
    const [raw] = positionals(p, ["NAME"]);
    const name = domainName(raw!);
    await withAdmin(ctx, async (api) => {
      if (await api.isLocalDomain(name)) throw new CommandError(`domain ${name} already exists`);
      await api.addDomain(name);
    });
    ctx.io.out(`added domain ${name}\n`);
  },
};

const list: Command = {
  name: "list",
  summary: "list the local domains",
  usage: ["domain list"],
  async run(ctx, p) {
    positionals(p, []);
    const domains = await withAdmin(ctx, (api) => api.listDomains());
    for (const d of domains) ctx.io.out(`${d}\n`);
  },
};

const del: Command = {
  name: "del",
  summary: "delete a local domain that has no users left",
  usage: ["domain del NAME"],
  async run(ctx, p) {
    const [raw] = positionals(p, ["NAME"]);
    const name = domainName(raw!);
    await withAdmin(ctx, async (api) => {
      if (!(await api.isLocalDomain(name))) throw new CommandError(`no domain ${name}`);
      const users = await api.listAccounts(name);
      if (users.length) throw new CommandError(`domain ${name} still has ${users.length} user(s): delete them first`);
      if (!(await api.deleteDomain(name))) throw new CommandError(`no domain ${name}`);
    });
    ctx.io.out(`deleted domain ${name}\n`);
  },
};

export const domainCommand: Command = {
  name: "domain",
  summary: "manage local domains",
  usage: ["domain add NAME", "domain list", "domain del NAME"],
  sub: [add, list, del],
};
