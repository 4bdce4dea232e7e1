// RFC 9051 §6.3.9 LIST with LIST-EXTENDED (RFC 5258), LIST-STATUS (RFC 5819),
// SPECIAL-USE (RFC 6154) and CHILDREN attributes; RFC 3501 §6.3.9 LSUB.
import type { Mailbox } from "../../../core/store/types.ts";
import { AUTHED, ok, type CommandSpec, type Ctx } from "../command.ts";
import { astr } from "../format.ts";
import { DELIM, canonicalName, decodeMutf7, matchPattern, patternToRegExp } from "../names.ts";
import { ParseError } from "../parser.ts";
import type { Session } from "../session.ts";
import { parseStatusItems, statusItems } from "../status-items.ts";

interface Entry {
  name: string;
  mb: Mailbox | null; // null: an implied parent that does not exist
  hasChildren: boolean;
  subscribed: boolean;
}

/** Mailboxes plus the parents their names imply ("a/b" implies "a"). */
function entries(mbs: Mailbox[]): Map<string, Entry> {
  const map = new Map<string, Entry>();
  for (const mb of mbs) map.set(mb.name, { name: mb.name, mb, hasChildren: false, subscribed: mb.subscribed });
  for (const mb of mbs) {
    const parts = mb.name.split(DELIM);
    for (let i = parts.length - 1; i > 0; i--) {
      const parent = parts.slice(0, i).join(DELIM);
      const e = map.get(parent);
      if (e) e.hasChildren = true;
      else map.set(parent, { name: parent, mb: null, hasChildren: true, subscribed: false });
    }
  }
  return map;
}

/** A client's mailbox name or pattern in our (Unicode) spelling. */
export function fromWire(s: Session, name: string): string {
  if (s.utf8) return name;
  return decodeMutf7(name) ?? name;
}

export async function list(s: Session, c: Ctx, lsub: boolean) {
  const a = c.args;
  const sel = new Set<string>();
  let extended = false;
  if (!lsub && a.isList()) {
    extended = true;
    const l = a.list();
    while (!l.done()) sel.add(l.atom().toUpperCase());
  }
  const ref = fromWire(s, a.astring());
  const patterns: string[] = [];
  if (!lsub && a.isList()) {
    extended = true;
    const l = a.list();
    while (!l.done()) patterns.push(fromWire(s, l.astring()));
  } else patterns.push(fromWire(s, a.astring()));
  const ret = new Set<string>();
  let statusWanted: string[] | null = null;
  if (!lsub && a.accept("RETURN")) {
    extended = true;
    const l = a.list();
    while (!l.done()) {
      const opt = l.atom().toUpperCase();
      if (opt === "STATUS") statusWanted = parseStatusItems(l.list());
      else ret.add(opt);
    }
  }
  a.end();
  for (const o of sel) if (!["SUBSCRIBED", "REMOTE", "RECURSIVEMATCH", "SPECIAL-USE"].includes(o)) throw new ParseError(`Unknown selection option ${o}`);
  if (sel.has("RECURSIVEMATCH") && sel.size === 1) throw new ParseError("RECURSIVEMATCH alone");
  const onlySubscribed = lsub || sel.has("SUBSCRIBED");
  const onlySpecial = sel.has("SPECIAL-USE");
  const showSubscribed = onlySubscribed || ret.has("SUBSCRIBED");
  const word = lsub ? "LSUB" : "LIST";

  // §6.3.9: an empty pattern asks for the delimiter.
  if (patterns.length === 1 && patterns[0] === "") {
    s.send(`* ${word} (\\Noselect) "${DELIM}" ""`);
    return ok(`${word} completed`);
  }
  const all = entries(await s.core.store.listMailboxes(s.accountId));
  const sorted = [...all.values()].sort((x, y) => (x.name === "INBOX" ? -1 : y.name === "INBOX" ? 1 : x.name < y.name ? -1 : x.name > y.name ? 1 : 0));
  const seen = new Set<string>();
  for (const pat of patterns) {
    const full = canonicalName(ref + pat);
    const re = patternToRegExp(full);
    for (const e of sorted) {
      if (seen.has(e.name) || !matchPattern(e.name, re, full)) continue;
      let attrs: string[] = [];
      if (!e.mb) {
        // A parent that only exists as a prefix: listed unless only subscribed/special ones are asked.
        if (onlySubscribed) {
          const anySub = [...all.values()].some((x) => x.subscribed && x.name.startsWith(e.name + DELIM));
          if (!anySub) continue;
          if (lsub) attrs.push("\\Noselect");
          else attrs.push("\\NonExistent");
          if (sel.has("RECURSIVEMATCH")) attrs.push("CHILDINFO");
        } else if (onlySpecial) continue;
        else attrs.push(extended ? "\\NonExistent" : "\\Noselect");
      } else {
        if (onlySubscribed && !e.subscribed) {
          // RFC 5258 §3.5: with RECURSIVEMATCH a parent of subscribed mailboxes is listed.
          const anySub = sel.has("RECURSIVEMATCH") && [...all.values()].some((x) => x.subscribed && x.name.startsWith(e.name + DELIM));
          if (!anySub || lsub) continue;
          attrs.push("CHILDINFO");
        }
        if (onlySpecial && !e.mb.specialUse) continue;
        if (e.mb.specialUse && !lsub) attrs.push(e.mb.specialUse);
      }
      const childInfo = attrs.includes("CHILDINFO");
      attrs = attrs.filter((x) => x !== "CHILDINFO");
      if (!lsub) attrs.push(e.hasChildren ? "\\HasChildren" : "\\HasNoChildren");
      if (showSubscribed && e.subscribed && !lsub) attrs.push("\\Subscribed");
      seen.add(e.name);
      const ext = childInfo ? ` ("CHILDINFO" ("SUBSCRIBED"))` : "";
      const wire = astr(s.wireName(e.name), s.utf8);
      s.send(`* ${word} (${attrs.join(" ")}) "${DELIM}" ${wire}${ext}`);
      if (statusWanted && e.mb) s.send(`* STATUS ${wire} (${await statusItems(s, e.mb, statusWanted)})`);
    }
  }
  return ok(`${word} completed`);
}

export const listCmd: CommandSpec = { name: "LIST", states: AUTHED, run: (s, c) => list(s, c, false) };
