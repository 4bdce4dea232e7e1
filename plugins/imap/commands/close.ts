// RFC 9051 §6.4.1 CLOSE: silently expunge (read-write only), then leave the mailbox.
import { SELECTED, ok, type CommandSpec } from "../command.ts";

export const close: CommandSpec = {
  name: "CLOSE",
  states: SELECTED,
  async run(s, c) {
    c.args.end();
    const sel = s.selected!;
    if (!sel.readOnly) await s.core.store.expunge(sel.id, undefined, { origin: s.conn.id });
    s.deselect();
    return ok("CLOSE completed");
  },
};
