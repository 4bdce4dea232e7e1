// RFC 2971 ID: the client's parameters are logged, ours returned.
import { ANY, ok, type CommandSpec } from "../command.ts";
import { ParseError } from "../parser.ts";

export const id: CommandSpec = {
  name: "ID",
  states: ANY,
  async run(s, c) {
    const fields: Record<string, string | null> = {};
    if (!c.args.accept("NIL")) {
      const l = c.args.list();
      let n = 0;
      while (!l.done()) {
        if (++n > 30) throw new ParseError("Too many ID fields");
        const k = l.astring();
        fields[k.slice(0, 30)] = l.nstring()?.slice(0, 1024) ?? null;
      }
    }
    c.args.end();
    if (Object.keys(fields).length > 0) s.conn.log.debug("imap client id", fields);
    s.send(`* ID ("name" "kotakpos" "vendor" "kotakpos")`);
    return ok("ID completed");
  },
};
