// RFC 9051 §6.2.1 STARTTLS: OK, then the handshake; bytes pipelined before it are dropped
// (a command injection defence), and the client must ask for CAPABILITY again.
import { bad, type CommandSpec } from "../command.ts";

export const starttls: CommandSpec = {
  name: "STARTTLS",
  states: ["notauth"],
  async run(s, c) {
    c.args.end();
    if (s.conn.secure) return bad("TLS already active");
    s.reader.discard();
    s.send(`${c.tag} OK Begin TLS negotiation now`);
    s.flush();
    try {
      await s.conn.upgradeTls();
    } catch (e) {
      s.conn.log.info("imap starttls failed", { err: String(e) });
      s.conn.destroy();
    }
    return null;
  },
};
