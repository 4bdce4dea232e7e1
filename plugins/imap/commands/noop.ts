// RFC 9051 §6.1.2 NOOP and RFC 3501 §6.4.1 CHECK (a NOOP here): the session reports
// pending mailbox changes after every command (session.syncSelected).
import { ANY, SELECTED, ok, type CommandSpec } from "../command.ts";

export const noop: CommandSpec = {
  name: "NOOP",
  states: ANY,
  async run(_s, c) {
    c.args.end();
    return ok("NOOP completed");
  },
};

export const check: CommandSpec = {
  name: "CHECK",
  states: SELECTED,
  async run(_s, c) {
    c.args.end();
    return ok("CHECK completed");
  },
};
