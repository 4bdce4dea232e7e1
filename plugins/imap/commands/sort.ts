// RFC 5256 SORT / UID SORT (with DISPLAYFROM / DISPLAYTO, RFC 5957): search, then order by
// keys from the stored envelope; ties go by sequence number.
import type { EnvelopeAddress } from "../../../core/mime/types.ts";
import type { MessageMeta } from "../../../core/store/types.ts";
import { SELECTED, bad, no, ok, type CommandSpec } from "../command.ts";
import { ParseError, type Args } from "../parser.ts";
import type { Session } from "../session.ts";
import { baseSubject } from "../subject.ts";
import { decodeWords } from "../../../core/mime/decode.ts";
import { parseKey, runSearch, type Key } from "./search.ts";
import { esearchLine, parseReturn } from "../esearch.ts";
import { startContext } from "../contexts.ts";

const KEYS = new Set(["ARRIVAL", "CC", "DATE", "FROM", "SIZE", "SUBJECT", "TO", "DISPLAYFROM", "DISPLAYTO"]);

function first(list: EnvelopeAddress[] | null): EnvelopeAddress | null {
  return list?.find((a) => a.host !== null || a.mailbox !== null) ?? null;
}

/** RFC 4790 §9.2 i;ascii-casemap, the comparator of RFC 5256 §3: ASCII letters folded to
 *  upper case (so "[" and "_" sort after letters), everything else compared as is. */
export function asciiCasemap(s: string): string {
  return s.replace(/[a-z]+/g, (m) => m.toUpperCase());
}

function keyOf(k: string, m: MessageMeta): string | number {
  const e = m.envelope;
  switch (k) {
    case "ARRIVAL":
      return m.internalDate;
    case "DATE":
      return m.sentDate ?? m.internalDate;
    case "SIZE":
      return m.size;
    case "SUBJECT":
      return asciiCasemap(baseSubject(m.subject).base);
    case "FROM":
    case "TO":
    case "CC":
      return asciiCasemap(first(k === "FROM" ? e.from : k === "TO" ? e.to : e.cc)?.mailbox ?? "");
    case "DISPLAYFROM":
    case "DISPLAYTO": {
      // RFC 5957 §3: the decoded display name, else the address itself.
      const a = first(k === "DISPLAYFROM" ? e.from : e.to);
      const name = a?.name ? decodeWords(a.name).trim() : "";
      return asciiCasemap(name || (a ? `${a.mailbox ?? ""}@${a.host ?? ""}` : ""));
    }
  }
  return 0;
}

/** Metadata of the messages a search selected (helper shared with THREAD). */
export async function searched(s: Session, key: Key): Promise<{ seq: number; meta: MessageMeta }[]> {
  const res = await runSearch(s, key);
  const metas = await s.opts.cache.messages(s.selected!.id, res.uids);
  const seqOf = new Map(res.uids.map((u, i) => [u, res.seqs[i]!]));
  return metas.filter((m) => seqOf.has(m.uid)).map((m) => ({ seq: seqOf.get(m.uid)!, meta: m }));
}

/** "charset search-key…" after SORT/THREAD's own arguments; null for an unknown charset. */
export function parseCriteriaTail(a: Args): Key | null {
  const cs = a.astring().toUpperCase();
  if (cs !== "UTF-8" && cs !== "US-ASCII") return null;
  const list: Key[] = [];
  while (!a.done()) list.push(parseKey(a));
  if (list.length === 0) throw new ParseError("Missing search criteria");
  return list.length === 1 ? list[0]! : { k: "and", list };
}

export type SortCrit = { key: string; reverse: boolean }[];

/** The matching messages in sort order, ties by sequence number (RFC 5256 §3). */
export async function sortedRows(s: Session, key: Key, crit: SortCrit): Promise<{ seq: number; meta: MessageMeta }[]> {
  const rows = (await searched(s, key)).map((r) => ({ ...r, keys: crit.map((k) => keyOf(k.key, r.meta)) }));
  rows.sort((x, y) => {
    for (let i = 0; i < crit.length; i++) {
      const a = x.keys[i]!;
      const b = y.keys[i]!;
      if (a !== b) return (a < b ? -1 : 1) * (crit[i]!.reverse ? -1 : 1);
    }
    return x.seq - y.seq;
  });
  return rows;
}

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
      if (!KEYS.has(key)) throw new ParseError(`Unknown sort key ${key}`);
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
