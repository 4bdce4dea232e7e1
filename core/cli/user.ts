// kotakpos user add|list|passwd|del — passwords from --password-stdin or a prompt.
import { positionals } from "./args.ts";
import type { Command } from "./command.ts";
import { withAdmin } from "./context.ts";
import { CommandError } from "./errors.ts";
import { readPassword } from "./password.ts";
import { domainName, mailAddress } from "./validate.ts";

const PASSWORD_HELP = [
  "Options:",
  "  --password-stdin   read the password from the first line of standard input",
  "                     (otherwise it is asked on the terminal, without echo)",
];

const add: Command = {
  name: "add",
  summary: "create an account (with its INBOX, Sent, Drafts, Trash, Junk, Archive)",
  usage: ["user add ADDRESS [--password-stdin]"],
  details: PASSWORD_HELP,
  options: { "password-stdin": { type: "boolean" } },
  async run(ctx, p) {
    const [raw] = positionals(p, ["ADDRESS"]);
    const { address, domain } = mailAddress(raw!);
    await withAdmin(ctx, async (api) => {
      // Check first, so nobody types a password for nothing.
      if (!(await api.isLocalDomain(domain))) throw new CommandError(`no domain ${domain} (add it first: kotakpos domain add ${domain})`);
      if (await api.accountExists(address)) throw new CommandError(`user ${address} already exists`);
      const pw = await readPassword(ctx.io, p.values["password-stdin"] === true, address);
      await api.createAccount(address, pw);
    });
    ctx.io.out(`added user ${address}\n`);
  },
};

const list: Command = {
  name: "list",
  summary: "list accounts (of one domain if given)",
  usage: ["user list [DOMAIN]"],
  async run(ctx, p) {
    const [raw] = p.positionals.length ? positionals(p, ["DOMAIN"]) : [];
    const domain = raw === undefined ? undefined : domainName(raw);
    const accounts = await withAdmin(ctx, (api) => api.listAccounts(domain));
    for (const a of accounts) ctx.io.out(`${a.address}${a.disabled ? " (disabled)" : ""}\n`);
  },
};

const passwd: Command = {
  name: "passwd",
  summary: "set an account's password",
  usage: ["user passwd ADDRESS [--password-stdin]"],
  details: PASSWORD_HELP,
  options: { "password-stdin": { type: "boolean" } },
  async run(ctx, p) {
    const [raw] = positionals(p, ["ADDRESS"]);
    const { address } = mailAddress(raw!);
    await withAdmin(ctx, async (api) => {
      if (!(await api.accountExists(address))) throw new CommandError(`no user ${address}`);
      const pw = await readPassword(ctx.io, p.values["password-stdin"] === true, address);
      if (!(await api.setPassword(address, pw))) throw new CommandError(`no user ${address}`);
    });
    ctx.io.out(`password of ${address} changed\n`);
  },
};

const del: Command = {
  name: "del",
  summary: "delete an account and its mailboxes",
  usage: ["user del ADDRESS"],
  async run(ctx, p) {
    const [raw] = positionals(p, ["ADDRESS"]);
    const { address } = mailAddress(raw!);
    const ok = await withAdmin(ctx, (api) => api.deleteAccount(address));
    if (!ok) throw new CommandError(`no user ${address}`);
    ctx.io.out(`deleted user ${address}\n`);
  },
};

export const userCommand: Command = {
  name: "user",
  summary: "manage accounts",
  usage: ["user add ADDRESS [--password-stdin]", "user list [DOMAIN]", "user passwd ADDRESS [--password-stdin]", "user del ADDRESS"],
  sub: [add, list, passwd, del],
};
