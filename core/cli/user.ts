// kotakpos user add|list|passwd|quota|disable|enable|del — passwords from --password-stdin or a prompt.
import { positionals, str } from "./args.ts";
import type { Command } from "./command.ts";
import { withAdmin } from "./context.ts";
import { CommandError } from "./errors.ts";
import { readPassword } from "./password.ts";
import { domainName, mailAddress } from "./validate.ts";

const PASSWORD_HELP = ["Options:", "  --password-stdin   read the password from the first line of standard input", "                     (otherwise it is asked on the terminal, without echo)"];

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

/** "100M", "2G", "512K", "1048576" (bytes), or "none" → KiB (RFC 9208 STORAGE units). */
export function parseStorage(v: string): number | null {
  if (v.toLowerCase() === "none") return null;
  const m = /^(\d+)([KMGT]?)$/i.exec(v.trim());
  if (!m) throw new CommandError(`bad size ${v} (e.g. 500M, 2G, none)`);
  const mult = { "": 1 / 1024, K: 1, M: 1024, G: 1024 ** 2, T: 1024 ** 3 }[m[2]!.toUpperCase() as "K"];
  return Math.ceil(Number(m[1]) * mult);
}

function parseCount(v: string): number | null {
  if (v.toLowerCase() === "none") return null;
  if (!/^\d+$/.test(v)) throw new CommandError(`bad message count ${v} (a number or none)`);
  return Number(v);
}

const quota: Command = {
  name: "quota",
  summary: "show or set an account's quota (IMAP QUOTA, RFC 9208)",
  usage: ["user quota ADDRESS [--storage SIZE|none] [--messages N|none]"],
  details: ["SIZE: bytes, or with K, M, G, T (1024-based), e.g. 500M. Over quota, IMAP APPEND and", "COPY get NO [OVERQUOTA] and SMTP delivery 452 4.2.2."],
  options: { storage: { type: "string" }, messages: { type: "string" } },
  async run(ctx, p) {
    const [raw] = positionals(p, ["ADDRESS"]);
    const { address } = mailAddress(raw!);
    const storage = str(p, "storage");
    const messages = str(p, "messages");
    const q = await withAdmin(ctx, async (api) => {
      const cur = await api.getQuota(address);
      if (!cur) throw new CommandError(`no user ${address}`);
      if (storage === undefined && messages === undefined) return cur;
      const limits = { storageKib: storage === undefined ? cur.storageKib : parseStorage(storage), messages: messages === undefined ? cur.messages : parseCount(messages) };
      await api.setQuota(address, limits);
      return (await api.getQuota(address))!;
    });
    const kib = Math.ceil(q.usedBytes / 1024);
    ctx.io.out(`${address} storage ${kib} KiB of ${q.storageKib === null ? "unlimited" : `${q.storageKib} KiB`}, messages ${q.usedMessages} of ${q.messages ?? "unlimited"}\n`);
  },
};

/** user disable / user enable: the same command both ways. */
const toggle = (name: "disable" | "enable"): Command => ({
  name,
  summary: name === "disable" ? "stop an account from logging in (mail to it is still delivered)" : "let a disabled account log in again",
  usage: [`user ${name} ADDRESS`],
  async run(ctx, p) {
    const [raw] = positionals(p, ["ADDRESS"]);
    const { address } = mailAddress(raw!);
    const ok = await withAdmin(ctx, (api) => api.setDisabled(address, name === "disable"));
    if (!ok) throw new CommandError(`no user ${address}`);
    ctx.io.out(`${name}d user ${address}\n`);
  },
});

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
  usage: [
    "user add ADDRESS [--password-stdin]",
    "user list [DOMAIN]",
    "user passwd ADDRESS [--password-stdin]",
    "user quota ADDRESS [--storage SIZE|none] [--messages N|none]",
    "user disable ADDRESS",
    "user enable ADDRESS",
    "user del ADDRESS",
  ],
  sub: [add, list, passwd, quota, toggle("disable"), toggle("enable"), del],
};
