// RFC 9051 §6.3.11 STATUS (SIZE: RFC 8438; HIGHESTMODSEQ: RFC 7162 §3.1.8).
import { AUTHED, no, ok, type CommandSpec } from "../command.ts";
import { astr } from "../format.ts";
import { canonicalName, fromWire } from "../names.ts";
import { parseStatusItems, statusItems } from "../status-items.ts";

export const status: CommandSpec = {
  name: "STATUS",
  states: AUTHED,
  async run(s, c) {
    const name = canonicalName(fromWire(s, c.args.astring()));
    const items = parseStatusItems(c.args.list());
    c.args.end();
    const mb = await s.core.store.getMailbox(s.accountId, name);
    if (!mb) return no("No such mailbox", "NONEXISTENT");
    s.send(`* STATUS ${astr(s.wireName(mb.name), s.utf8)} (${await statusItems(s, mb, items)})`);
    return ok("STATUS completed");
  },
};
