// RFC 9051 §6.1.3 LOGOUT: BYE, tagged OK, close.
import { ANY, type CommandSpec } from "../command.ts";

export const logout: CommandSpec = {
  name: "LOGOUT",
  states: ANY,
  async run(s, c) {
    c.args.end();
    s.send("* BYE Logging out");
    s.send(`${c.tag} OK LOGOUT completed`);
    s.end();
    return null;
  },
};
