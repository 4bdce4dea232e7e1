// RFC 9051 §6.3.12 APPEND with APPENDUID (UIDPLUS, RFC 4315 §3), APPENDLIMIT (RFC 7889,
// enforced by the reader before the literal is read), literal8 (BINARY, RFC 3516) and
// UTF8 (RFC 6855 §4).
import { AUTHED, no, ok, type CommandSpec } from "../command.ts";
import { parseFlags } from "../flags.ts";
import { parseDateTime } from "../format.ts";
import { canonicalName } from "../names.ts";
import { ParseError } from "../parser.ts";
import { fromWire } from "./list.ts";

export const append: CommandSpec = {
  name: "APPEND",
  states: AUTHED,
  async run(s, c) {
    const a = c.args;
    const name = canonicalName(fromWire(s, a.astring()));
    const flags = a.isList() ? parseFlags(a.list()) : [];
    let internalDate: number | undefined;
    if (a.peek()?.t === "quoted") {
      const d = parseDateTime((a.token() as { v: string }).v);
      if (d === null) throw new ParseError("Invalid date-time");
      internalDate = d;
    }
    let lit: { data: Uint8Array; binary: boolean };
    if (a.accept("UTF8")) {
      const l = a.list();
      lit = l.literal();
      l.end();
    } else lit = a.literal();
    const msg = lit.data;
    if (!a.done()) throw new ParseError("MULTIAPPEND is not supported");
    // RFC 9051 §4.3: a literal is CHAR8 (no NUL); only literal8 (BINARY, RFC 3516) may carry it.
    if (!lit.binary && Buffer.from(msg.buffer, msg.byteOffset, msg.byteLength).indexOf(0) >= 0) throw new ParseError("NUL is not allowed in a literal (use literal8)");
    if (msg.length === 0) return no("Empty message");
    if (msg.length > s.opts.appendLimit) return no("Message too large", "TOOBIG");
    const mb = await s.core.store.getMailbox(s.accountId, name);
    if (!mb) return no("No such mailbox", "TRYCREATE");
    const res = await s.core.store.append(mb.id, msg, { flags, internalDate, origin: s.conn.id });
    const sel = s.selected;
    if (sel?.id === mb.id) {
      // Told before the tagged OK (the change event may not have come yet).
      if (!sel.needFull) sel.appended.push([res.uid, res.modseq]);
      sel.dirty = true;
    }
    return ok("APPEND completed", `APPENDUID ${res.uidvalidity} ${res.uid}`);
  },
};
