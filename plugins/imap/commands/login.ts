// RFC 9051 §6.2.3 LOGIN: refused without TLS (LOGINDISABLED) unless loopback is allowed.
import { no, type CommandSpec } from "../command.ts";
import { authenticate } from "../auth.ts";

export const login: CommandSpec = {
  name: "LOGIN",
  states: ["notauth"],
  async run(s, c) {
    const username = c.args.astring();
    const password = c.args.astring();
    c.args.end();
    if (!s.plaintextAllowed()) return no("Use STARTTLS first", "PRIVACYREQUIRED");
    return authenticate(s, c.tag, { mechanism: "PLAIN", username, password });
  },
};
