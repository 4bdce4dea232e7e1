// RFC 9051 §6.1.1 CAPABILITY.
import { ANY, ok, type CommandSpec } from "../command.ts";

export const capability: CommandSpec = {
  name: "CAPABILITY",
  states: ANY,
  async run(s, c) {
    c.args.end();
    s.send(`* CAPABILITY ${s.capabilities().join(" ")}`);
    return ok("CAPABILITY completed");
  },
};
