// RFC 5256 §3 sort order (with DISPLAYFROM / DISPLAYTO, RFC 5957): keys from the stored
// envelope; ties go by sequence number. Used by SORT and by CONTEXT=SORT updates.
import type { EnvelopeAddress } from "../../core/mime/types.ts";
import type { MessageMeta } from "../../core/store/types.ts";
import type { Session } from "./session.ts";
import { baseSubject } from "./subject.ts";
import { decodeWords } from "../../core/mime/decode.ts";
import { searched, type Key } from "./search.ts";

/** The sort keys of RFC 5256 §3 and RFC 5957 §3. */
export const SORT_KEYS = new Set(["ARRIVAL", "CC", "DATE", "FROM", "SIZE", "SUBJECT", "TO", "DISPLAYFROM", "DISPLAYTO"]);

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
