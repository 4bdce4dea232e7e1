// RFC 9051 §6.2.2 AUTHENTICATE with PLAIN (RFC 4616) and an initial response (SASL-IR, RFC 4959).
import { bad, no, type CommandSpec } from "../command.ts";
import { decodePlain } from "../../../core/sasl.ts";
import { authenticate as doAuth } from "../auth.ts";

export const authenticate: CommandSpec = {
  name: "AUTHENTICATE",
  states: ["notauth"],
  async run(s, c) {
    const mech = c.args.atom().toUpperCase();
    let resp: string | null = c.args.done() ? null : c.args.atom();
    c.args.end();
    if (mech !== "PLAIN") return no("Unsupported authentication mechanism");
    if (!s.plaintextAllowed()) return no("Use STARTTLS first", "PRIVACYREQUIRED");
    if (resp === null) {
      s.send("+ ");
      const line = await s.readLine();
      if (line === null) return null;
      if (line === "toolong") return bad("Response too long");
      // §6.2.2: "*" cancels the exchange.
      if (line.trim() === "*") return bad("AUTHENTICATE cancelled");
      resp = line.trim() === "" ? "=" : line.trim();
    }
    const r = decodePlain(resp);
    if (!r.ok) return bad(r.error);
    return doAuth(s, c.tag, r.cred);
  },
};
