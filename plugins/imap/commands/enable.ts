// RFC 5161 ENABLE: CONDSTORE, QRESYNC (RFC 7162 §3.2.3, implies CONDSTORE),
// UTF8=ACCEPT (RFC 6855), IMAP4rev2 (RFC 9051 §6.3.1), UIDONLY (RFC 9586 §3.1).
import { AUTHED, ok, type CommandSpec } from "../command.ts";

const KNOWN = new Set(["CONDSTORE", "QRESYNC", "UTF8=ACCEPT", "IMAP4REV2", "UIDONLY"]);

export const enable: CommandSpec = {
  name: "ENABLE",
  states: AUTHED,
  async run(s, c) {
    const newly: string[] = [];
    if (c.args.done()) return { status: "BAD", text: "ENABLE needs a capability" };
    while (!c.args.done()) {
      const cap = c.args.atom().toUpperCase();
      if (!KNOWN.has(cap) || s.enabled.has(cap)) continue;
      s.enabled.add(cap);
      newly.push(cap === "IMAP4REV2" ? "IMAP4rev2" : cap);
      if (cap === "QRESYNC" && !s.enabled.has("CONDSTORE")) {
        s.enabled.add("CONDSTORE");
      }
      if (cap === "QRESYNC" || cap === "CONDSTORE") await s.enableCondstore();
    }
    s.send(`* ENABLED${newly.map((x) => " " + x).join("")}`);
    return ok("ENABLE completed");
  },
};
