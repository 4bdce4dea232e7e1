// RFC 5256 SORT / UID SORT and ESORT (RFC 5267 §3). The sort order is ../sort.ts.
import { SELECTED, bad, no, ok, type CommandSpec } from "../command.ts";
import { ParseError } from "../parser.ts";
import { parseCriteriaTail } from "../search.ts";
import { SORT_KEYS, sortedRows, type SortCrit } from "../sort.ts";
import { esearchLine, parseReturn } from "../esearch.ts";
import { startContext } from "../contexts.ts";

export const sort: CommandSpec = {
  name: "SORT",
  states: SELECTED,
  uid: true,
  noExpunge: true,
  async run(s, c) {
    const ret = parseReturn(c.args);
    const l = c.args.list();
    const crit: SortCrit = [];
    while (!l.done()) {
      const reverse = l.accept("REVERSE");
      const key = l.atom().toUpperCase();
      if (!SORT_KEYS.has(key)) throw new ParseError(`Unknown sort key ${key}`);
      crit.push({ key, reverse });
    }
    if (crit.length === 0) return bad("Empty sort criteria");
    const key = parseCriteriaTail(c.args);
    if (!key) return no("Unsupported charset", "BADCHARSET (UTF-8 US-ASCII)");
    if (ret?.save) return bad("SAVE is not a SORT result option");
    const rows = await sortedRows(s, key, crit);
    const nums = rows.map((r) => (c.uid ? r.meta.uid : r.seq));
    if (!ret) {
      s.send(`* SORT${nums.map((n) => " " + n).join("")}`);
      return ok(`${c.uid ? "UID " : ""}SORT completed`);
    }
    // ESORT (RFC 5267 §3): the answer as ESEARCH.
    s.send(esearchLine(c.tag, c.uid, nums, ret, true, null));
    const code = ret.update ? startContext(s, { tag: c.tag, uid: c.uid, key, crit, uids: rows.map((r) => r.meta.uid) }) : undefined;
    return ok(`${c.uid ? "UID " : ""}SORT completed`, code);
  },
};
