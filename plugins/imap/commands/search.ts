// RFC 9051 §6.4.4 SEARCH / UID SEARCH: CHARSET UTF-8, MODSEQ (RFC 7162 §3.1.5), ESEARCH
// RETURN options (RFC 4731), SAVE and "$" (SEARCHRES, RFC 5182). The criteria engine is
// ../search.ts.
import { SELECTED, bad, no, ok, type CommandSpec } from "../command.ts";
import { parseKey, runSearch, walk, type Key } from "../search.ts";
import { esearchLine, parseReturn, returnAll } from "../esearch.ts";
import { startContext } from "../contexts.ts";

export const search: CommandSpec = {
  name: "SEARCH",
  states: SELECTED,
  uid: true,
  noExpunge: true,
  async run(s, c) {
    const a = c.args;
    let ret = parseReturn(a);
    if (a.accept("CHARSET")) {
      const cs = a.astring().toUpperCase();
      if (cs !== "UTF-8" && cs !== "US-ASCII") return no("Unsupported charset", "BADCHARSET (UTF-8 US-ASCII)");
    }
    const list: Key[] = [];
    while (!a.done()) list.push(parseKey(a));
    if (list.length === 0) return bad("Missing search criteria");
    const key: Key = list.length === 1 ? list[0]! : { k: "and", list };
    let usesModseq = false;
    walk(key, (k) => {
      if (k.k === "modseq") usesModseq = true;
    });
    if (ret?.update && ret.save) return bad("UPDATE and SAVE together");
    if (usesModseq) await s.enableCondstore();
    const res = await runSearch(s, key);
    const nums = c.uid ? res.uids : res.seqs;
    // RFC 4731 §3.2 / RFC 7162 §3.1.5: with only MIN and/or MAX, MODSEQ is that of the
    // messages returned; otherwise the highest of all matches.
    let highest = 0;
    const partialOnly = ret && !ret.all && !ret.count && !ret.partial && (ret.min || ret.max);
    if (partialOnly && res.modseqs.length) {
      if (ret!.min) highest = res.modseqs[0]!;
      if (ret!.max) highest = Math.max(highest, res.modseqs.at(-1)!);
    } else for (const m of res.modseqs) if (m > highest) highest = m;
    // IMAP4rev2 (RFC 9051 §6.4.4): SEARCH always answers with ESEARCH.
    if (!ret && s.rev2) ret = returnAll();
    if (!ret) {
      s.send(`* SEARCH${nums.map((n) => " " + n).join("")}${usesModseq && nums.length ? ` (MODSEQ ${highest})` : ""}`);
      return ok(`${c.uid ? "UID " : ""}SEARCH completed`);
    }
    // RFC 4731 §3.1 / RFC 5182: SAVE alone answers nothing but keeps the result.
    if (ret.save) s.searchRes = res.uids;
    const only = ret.save && !ret.min && !ret.max && !ret.count && !ret.partial && !ret.all;
    if (!only) s.send(esearchLine(c.tag, c.uid, nums, ret, false, usesModseq ? highest : null));
    if (ret.update) {
      const code = startContext(s, { tag: c.tag, uid: c.uid, key, crit: null, uids: res.uids });
      if (code) return ok(`${c.uid ? "UID " : ""}SEARCH completed`, code);
    }
    return ok(`${c.uid ? "UID " : ""}SEARCH completed`);
  },
};
