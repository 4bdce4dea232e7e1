// RFC 5465 NOTIFY SET / NOTIFY NONE (the work is in ../notify.ts).
import { AUTHED, no, ok, type CommandSpec } from "../command.ts";
import { canonicalName, fromWire } from "../names.ts";
import { NotifyState, eventsFor, parseNotify, statusLine } from "../notify.ts";

export const notify: CommandSpec = {
  name: "NOTIFY",
  states: AUTHED,
  async run(s, c) {
    const p = parseNotify(c.args, (n) => canonicalName(fromWire(s, n)));
    // §3.1: unsupported events are NO [BADEVENT] listing what we do support.
    if (p.bad.length) return no("Unsupported event", "BADEVENT (MessageNew MessageExpunge FlagChange MailboxName)");
    if (!p.spec) {
      s.setNotify(null);
      return ok("NOTIFY completed");
    }
    const st = new NotifyState(p.spec);
    const mbs = await s.core.store.listMailboxes(s.accountId);
    st.names = new Map(mbs.map((m) => [m.id, m.name]));
    s.setNotify(st);
    // §3.1 STATUS: the current state of every non-selected mailbox with message events.
    if (p.status) {
      for (const mb of mbs) {
        if (mb.id === s.selected?.id) continue;
        const ev = eventsFor(p.spec, mb, s.selected?.id ?? null);
        if (ev && (ev.has("MESSAGENEW") || ev.has("MESSAGEEXPUNGE") || ev.has("FLAGCHANGE"))) s.send(statusLine(s, mb));
      }
    }
    return ok("NOTIFY completed");
  },
};
