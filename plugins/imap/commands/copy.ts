// RFC 9051 §6.4.7 COPY / UID COPY with COPYUID (UIDPLUS, RFC 4315 §3).
import { SELECTED, no, ok, type CommandSpec, type Ctx } from "../command.ts";
import type { Session } from "../session.ts";
import { formatSetInOrder, resolveSet } from "../sequence.ts";
import { canonicalName, fromWire } from "../names.ts";

/** COPY and MOVE arguments: the UIDs of the selected messages and the destination name. */
export function transferArgs(s: Session, c: Ctx): { uids: number[]; name: string } {
  const set = c.args.atom();
  const name = canonicalName(fromWire(s, c.args.astring()));
  c.args.end();
  const sel = s.selected!;
  return { uids: resolveSet(s, set, c.uid).map((i) => sel.uids[i]!), name };
}

export const copy: CommandSpec = {
  name: "COPY",
  states: SELECTED,
  uid: true,
  async run(s, c) {
    const sel = s.selected!;
    const { uids, name } = transferArgs(s, c);
    const dest = await s.core.store.getMailbox(s.accountId, name);
    if (!dest) return no("No such mailbox", "TRYCREATE");
    if (uids.length === 0) return ok(`${c.uid ? "UID " : ""}COPY completed`);
    const res = await s.core.store.copy(sel.id, uids, dest.id, { origin: s.conn.id });
    if (dest.id === sel.id) sel.dirty = sel.needFull = true;
    if (res.map.length === 0) return ok(`${c.uid ? "UID " : ""}COPY completed`);
    const code = `COPYUID ${res.uidvalidity} ${formatSetInOrder(res.map.map((p) => p[0]))} ${formatSetInOrder(res.map.map((p) => p[1]))}`;
    return ok(`${c.uid ? "UID " : ""}COPY completed`, code);
  },
};
