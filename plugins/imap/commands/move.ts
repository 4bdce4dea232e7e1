// RFC 6851 MOVE / UID MOVE (RFC 9051 §6.4.8): COPYUID first as an untagged OK, then the
// EXPUNGE (or VANISHED) responses, then the tagged OK. Into the selected mailbox itself
// too: the messages get new UIDs (announced by EXISTS) and the old ones are expunged.
import { SELECTED, no, ok, type CommandSpec } from "../command.ts";
import { formatSetInOrder } from "../sequence.ts";
import { transferArgs } from "./copy.ts";

export const move: CommandSpec = {
  name: "MOVE",
  states: SELECTED,
  uid: true,
  async run(s, c) {
    const sel = s.selected!;
    const { uids, name } = transferArgs(s, c);
    if (sel.readOnly) return no("Mailbox is read-only", "READ-ONLY");
    const dest = await s.core.store.getMailbox(s.accountId, name);
    if (!dest) return no("No such mailbox", "TRYCREATE");
    const done = `${c.uid ? "UID " : ""}MOVE completed`;
    if (uids.length === 0) return ok(done);
    const res = await s.core.store.move(sel.id, uids, dest.id, { origin: s.conn.id });
    if (res.map.length) {
      s.send(`* OK [COPYUID ${res.uidvalidity} ${formatSetInOrder(res.map.map((p) => p[0]))} ${formatSetInOrder(res.map.map((p) => p[1]))}] Moved`);
    }
    s.reportExpunged(res.map.map((p) => p[0]));
    return ok(done);
  },
};
