// RFC 9051 §6.4.6 STORE / UID STORE (+FLAGS, -FLAGS, FLAGS, .SILENT) with UNCHANGEDSINCE
// and the MODIFIED response code (CONDSTORE, RFC 7162 §3.1.3).
import { SELECTED, no, ok, type CommandSpec } from "../command.ts";
import { formatSet } from "../format.ts";
import { parseFlags } from "../flags.ts";
import { Args, ParseError } from "../parser.ts";
import { resolveSet } from "../sequence.ts";
import { indexOfUid, type UidEntry } from "../cache.ts";

export const store: CommandSpec = {
  name: "STORE",
  states: SELECTED,
  uid: true,
  noExpunge: true,
  async run(s, c) {
    const sel = s.selected!;
    const a = c.args;
    const set = a.atom();
    let unchangedSince: number | undefined;
    if (a.isList()) {
      const l = a.list();
      while (!l.done()) {
        const m = l.atom().toUpperCase();
        if (m !== "UNCHANGEDSINCE") throw new ParseError(`Unknown STORE modifier ${m}`);
        unchangedSince = l.number();
      }
      await s.enableCondstore();
    }
    const m = /^([+-]?)FLAGS(\.SILENT)?$/i.exec(a.atom());
    if (!m) throw new ParseError("Expected FLAGS, +FLAGS or -FLAGS");
    const op = m[1] === "+" ? "add" : m[1] === "-" ? "remove" : "set";
    const silent = !!m[2];
    const flags = a.isList() ? parseFlags(a.list()) : parseFlags(new Args(collect(a)));
    a.end();
    if (sel.readOnly) return no("Mailbox is read-only", "READ-ONLY");
    const idx = resolveSet(s, set, c.uid);
    const uids = idx.map((i) => sel.uids[i]!);
    if (uids.length === 0) return ok(`${c.uid ? "UID " : ""}STORE completed`);
    const res = await s.core.store.setFlags(sel.id, uids, op, flags, { unchangedSince, origin: s.conn.id });
    const changed = new Map(res.changed.map((x) => [x.uid, x]));
    for (const x of res.changed) sel.setModseq(x.uid, x.modseq);
    const failed = new Set(res.failed);
    // Unchanged messages (the flags were already so) are shown as they are: from the
    // cached list, found by binary search (not a map of the whole mailbox per STORE).
    let current: readonly UidEntry[] | null = null;
    if (!silent && uids.some((u) => !changed.has(u) && !failed.has(u))) current = await s.opts.cache.uidList(sel.id);
    for (const u of uids) {
      if (failed.has(u)) continue;
      const i = sel.indexOf(u);
      if (i < 0) continue;
      const x = changed.get(u) ?? (current ? current[indexOfUid(current, u)] : undefined);
      if (!x) continue;
      if (!silent) s.sendFetch(i + 1, u, s.flagItems(u, x.flags, x.modseq));
      // RFC 7162 §3.1.3: with CONDSTORE the new MODSEQ is reported even with .SILENT.
      else if (s.condstore && changed.has(u)) s.sendFetch(i + 1, u, `UID ${u} MODSEQ (${x.modseq})`);
    }
    const done = `${c.uid ? "UID " : ""}STORE completed`;
    if (failed.size) {
      const nums = c.uid ? [...failed] : [...failed].map((u) => sel.indexOf(u) + 1).filter((n) => n > 0);
      return ok(done, `MODIFIED ${formatSet(nums)}`);
    }
    return ok(done);
  },
};

/** Flags given without parentheses: the rest of the arguments. */
function collect(a: Args) {
  const toks = [];
  while (!a.done()) toks.push(a.token());
  if (toks.length === 0) throw new ParseError("Missing flags");
  return toks;
}
