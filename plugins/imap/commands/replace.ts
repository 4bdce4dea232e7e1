// RFC 8508 REPLACE / UID REPLACE: APPEND a new message (to any mailbox) and expunge the old
// one from the selected mailbox; the APPENDUID comes as an untagged OK before the EXPUNGE
// (§3.3), the old message stays if the append fails.
import { SELECTED, bad, no, ok, type CommandSpec } from "../command.ts";
import { canonicalName, fromWire } from "../names.ts";
import { buildMessage, parseAppendMessage } from "./append.ts";
import { resolveSet } from "../sequence.ts";

export const replace: CommandSpec = {
  name: "REPLACE",
  states: SELECTED,
  uid: true,
  async run(s, c) {
    const sel = s.selected!;
    const a = c.args;
    const set = a.atom();
    if (!/^\d+$/.test(set)) return bad("REPLACE takes one message");
    const name = canonicalName(fromWire(s, a.astring()));
    const msg = parseAppendMessage(a);
    a.end();
    const idx = resolveSet(s, set, c.uid);
    if (idx.length !== 1) return c.uid ? no("No such message", "NONEXISTENT") : bad("No such message");
    if (sel.readOnly) return no("Mailbox is read-only", "READ-ONLY");
    const oldUid = sel.uids[idx[0]!]!;
    const mb = await s.core.store.getMailbox(s.accountId, name);
    if (!mb) return no("No such mailbox", "TRYCREATE");
    const raw = await buildMessage(s, msg);
    if (!(raw instanceof Uint8Array)) return raw;
    const res = await s.core.store.append(mb.id, raw, { flags: msg.flags, internalDate: msg.internalDate, origin: s.conn.id });
    if (mb.id === sel.id) {
      if (!sel.needFull) sel.appended.push([res.uid, res.modseq]);
      sel.dirty = true;
    }
    s.send(`* OK [APPENDUID ${res.uidvalidity} ${res.uid}] Replacement message`);
    const gone = await s.core.store.remove(sel.id, [oldUid], { origin: s.conn.id });
    s.reportExpunged(gone);
    return ok(`${c.uid ? "UID " : ""}REPLACE completed`);
  },
};
