// RFC 8437 UNAUTHENTICATE: end the authenticated session without closing the connection;
// the client may then log in again (as another user, too).
import { AUTHED, ok, type CommandSpec } from "../command.ts";

export const unauthenticate: CommandSpec = {
  name: "UNAUTHENTICATE",
  states: AUTHED,
  async run(s, c) {
    c.args.end();
    s.logoutToNotAuth();
    return ok("UNAUTHENTICATE completed");
  },
};
