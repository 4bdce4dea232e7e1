// RFC 3691 / RFC 9051 §6.4.2 UNSELECT: leave the mailbox without expunging.
import { SELECTED, ok, type CommandSpec } from "../command.ts";

export const unselect: CommandSpec = {
  name: "UNSELECT",
  states: SELECTED,
  async run(s, c) {
    c.args.end();
    s.deselect();
    return ok("UNSELECT completed");
  },
};
