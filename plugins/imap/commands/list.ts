// RFC 9051 §6.3.9 LIST with LIST-EXTENDED (RFC 5258), LIST-STATUS (RFC 5819),
// SPECIAL-USE (RFC 6154) and CHILDREN attributes; RFC 3501 §6.3.9 LSUB.
import type { Mailbox } from "../../../core/store/types.ts";
import { AUTHED, ok, type CommandSpec, type Ctx } from "../command.ts";
import { astr } from "../format.ts";
import { DELIM, canonicalName, fromWire, matchPattern, patternToRegExp } from "../names.ts";
import { ParseError } from "../parser.ts";
import type { Session } from "../session.ts";
import { parseStatusItems, statusItems } from "../status-items.ts";
import { orphanSubscriptions } from "../subscriptions.ts";

interface Entry {
  name: string;
  mb: Mailbox | null; // null: an implied parent, or a subscribed name without a mailbox
  /** A mailbox or the parent of one (else only a subscription names it). */
  exists: boolean;
  hasChildren: boolean;
  subscribed: boolean;
}

/** Mailboxes, subscribed names without one, and the parents their names imply ("a/b"
 *  implies "a"). */
function entries(mbs: Mailbox[], orphans: Set<string>): Map<string, Entry> {
  const map = new Map<string, Entry>();
  for (const mb of mbs) map.set(mb.name, { name: mb.name, mb, exists: true, hasChildren: false, subscribed: mb.subscribed });
  for (const n of orphans) if (!map.has(n)) map.set(n, { name: n, mb: null, exists: false, hasChildren: false, subscribed: true });
  for (const e of [...map.values()]) {
    const parts = e.name.split(DELIM);
    for (let i = parts.length - 1; i > 0; i--) {
      const parent = parts.slice(0, i).join(DELIM);
      let p = map.get(parent);
      if (!p) map.set(parent, (p = { name: parent, mb: null, exists: false, hasChildren: false, subscribed: false }));
      if (e.exists) p.exists = p.hasChildren = true;
    }
  }
  return map;
}

/** For each name, the subscribed names below it. */
function subscribedBelow(all: Map<string, Entry>): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const e of all.values()) {
    if (!e.subscribed) continue;
    const parts = e.name.split(DELIM);
    for (let i = parts.length - 1; i > 0; i--) {
      const parent = parts.slice(0, i).join(DELIM);
      let l = out.get(parent);
      if (!l) out.set(parent, (l = []));
      l.push(e.name);
    }
  }
  return out;
}

const SELECTION_OPTIONS = ["SUBSCRIBED", "REMOTE", "RECURSIVEMATCH", "SPECIAL-USE"];
/** RFC 5258 §6 (SUBSCRIBED, CHILDREN), RFC 5819 (STATUS), RFC 6154 §5.1 (SPECIAL-USE). */
const RETURN_OPTIONS = ["SUBSCRIBED", "CHILDREN", "STATUS", "SPECIAL-USE"];

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
  // RFC 5258 §3: unknown selection or return options are an error.
  for (const o of sel) if (!SELECTION_OPTIONS.includes(o)) throw new ParseError(`Unknown selection option ${o}`);
  for (const o of ret) if (!RETURN_OPTIONS.includes(o)) throw new ParseError(`Unknown return option ${o}`);
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
  const orphans = onlySubscribed ? await orphanSubscriptions(s.core.db, s.accountId) : new Set<string>();
  const all = entries(await s.core.store.listMailboxes(s.accountId), orphans);
  const below = onlySubscribed ? subscribedBelow(all) : new Map<string, string[]>();
  const sorted = [...all.values()].sort((x, y) => (x.name === "INBOX" ? -1 : y.name === "INBOX" ? 1 : x.name < y.name ? -1 : x.name > y.name ? 1 : 0));
  const fulls = patterns.map((p) => canonicalName(ref + p));
  const res = fulls.map((f) => patternToRegExp(f));
  const matchesAny = (name: string) => res.some((re, i) => matchPattern(name, re, fulls[i]!));
  const seen = new Set<string>();
  for (let pi = 0; pi < fulls.length; pi++) {
    for (const e of sorted) {
      if (seen.has(e.name) || !matchPattern(e.name, res[pi]!, fulls[pi]!)) continue;
      const attrs: string[] = [];
      let childInfo = false;
      if (onlySubscribed) {
        if (!e.subscribed) {
          const subs = below.get(e.name);
          if (!subs) continue;
          if (lsub) {
            // RFC 3501 §6.3.9: a parent of subscribed names that "%" stopped at is \Noselect.
            if (subs.some(matchesAny)) continue;
            attrs.push("\\Noselect");
          } else {
            // RFC 5258 §3.5: with RECURSIVEMATCH, CHILDINFO says why it is listed.
            if (!sel.has("RECURSIVEMATCH")) continue;
            childInfo = true;
            if (!e.mb) attrs.push("\\NonExistent");
          }
        } else if (!e.mb) attrs.push(lsub ? "\\Noselect" : "\\NonExistent");
      } else if (!e.exists) continue;
      else if (!e.mb) attrs.push(extended ? "\\NonExistent" : "\\Noselect");
      if (onlySpecial && !e.mb?.specialUse) continue;
      if (e.mb?.specialUse && !lsub) attrs.push(e.mb.specialUse);
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
