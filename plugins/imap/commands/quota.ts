// RFC 9208 QUOTA: one quota root, "", for the whole account, with the STORAGE (KiB) and
// MESSAGE limits the admin sets (`kotakpos user quota`). SETQUOTA is the admin's, not the
// user's: refused (and QUOTASET not advertised).
import type { Quota } from "../../../core/store/types.ts";
import { AUTHED, no, ok, type CommandSpec } from "../command.ts";
import { astr } from "../format.ts";
import { canonicalName, fromWire } from "../names.ts";
import type { Session } from "../session.ts";

/** §5.1: "QUOTA root (resource usage limit …)", only the resources that have a limit. */
export function quotaLine(q: Quota): string {
  const res: string[] = [];
  if (q.storageKib !== null) res.push(`STORAGE ${Math.ceil(q.usedBytes / 1024)} ${q.storageKib}`);
  if (q.messages !== null) res.push(`MESSAGE ${q.usedMessages} ${q.messages}`);
  return `* QUOTA "" (${res.join(" ")})`;
}

async function sendQuota(s: Session): Promise<void> {
  s.send(quotaLine(await s.core.store.getQuota(s.accountId)));
}

export const getquota: CommandSpec = {
  name: "GETQUOTA",
  states: AUTHED,
  async run(s, c) {
    const root = c.args.astring();
    c.args.end();
    if (root !== "") return no("No such quota root", "NONEXISTENT");
    await sendQuota(s);
    return ok("GETQUOTA completed");
  },
};

export const getquotaroot: CommandSpec = {
  name: "GETQUOTAROOT",
  states: AUTHED,
  async run(s, c) {
    const name = canonicalName(fromWire(s, c.args.astring()));
    c.args.end();
    const mb = await s.core.store.getMailbox(s.accountId, name);
    if (!mb) return no("No such mailbox", "NONEXISTENT");
    s.send(`* QUOTAROOT ${astr(s.wireName(mb.name), s.utf8)} ""`);
    await sendQuota(s);
    return ok("GETQUOTAROOT completed");
  },
};

export const setquota: CommandSpec = {
  name: "SETQUOTA",
  states: AUTHED,
  async run(_s, c) {
    c.args.astring();
    c.args.list();
    c.args.end();
    return no("Quotas are set by the administrator", "NOPERM");
  },
};
