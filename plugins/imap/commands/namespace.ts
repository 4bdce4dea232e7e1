// RFC 2342 / RFC 9051 §6.3.10 NAMESPACE: one personal namespace, "/" as delimiter.
import { AUTHED, ok, type CommandSpec } from "../command.ts";

export const namespace: CommandSpec = {
  name: "NAMESPACE",
  states: AUTHED,
  async run(s, c) {
    c.args.end();
    s.send(`* NAMESPACE (("" "/")) NIL NIL`);
    return ok("NAMESPACE completed");
  },
};
