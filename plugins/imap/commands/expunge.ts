// RFC 9051 §6.4.3 EXPUNGE and UID EXPUNGE (UIDPLUS, RFC 4315 §2.1).
import { SELECTED, no, ok, type CommandSpec } from "../command.ts";
import { resolveSet } from "../sequence.ts";

export const expunge: CommandSpec = {
  name: "EXPUNGE",
  states: SELECTED,
  uid: true,
  async run(s, c) {
    const sel = s.selected!;
    let only: number[] | undefined;
    if (c.uid) only = resolveSet(s, c.args.atom(), true).map((i) => sel.uids[i]!);
    c.args.end();
    if (sel.readOnly) return no("Mailbox is read-only", "READ-ONLY");
    const done = `${c.uid ? "UID " : ""}EXPUNGE completed`;
    if (only && only.length === 0) return ok(done);
    const gone = await s.core.store.expunge(sel.id, only, { origin: s.conn.id });
    s.reportExpunged(gone);
    return ok(done);
  },
};
