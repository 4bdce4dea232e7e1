// CONTEXT=SEARCH and CONTEXT=SORT (RFC 5267 §4): a SEARCH or SORT with RETURN (UPDATE) stays
// live; when the mailbox changes the session tells the client what entered (ADDTO) and left
// (REMOVEFROM) the result, until CANCELUPDATE or the mailbox is closed. Nothing runs for
// sessions without one.
import type { Key } from "./search.ts";
import { runSearch } from "./search.ts";
import { sortedRows, type SortCrit } from "./sort.ts";
import { formatSet } from "./format.ts";
import type { Session } from "./session.ts";

export interface UpdateContext {
  tag: string;
  uid: boolean;
  key: Key;
  /** SORT's criteria; null for SEARCH (results ascending). */
  crit: SortCrit | null;
  /** The result as the client knows it: UIDs in result order. */
  uids: number[];
}

const MAX_CONTEXTS = 16;

/** Registers the context; the response code to add to the tagged OK when refused. */
export function startContext(s: Session, ctx: UpdateContext): string | undefined {
  if (s.contexts.size >= MAX_CONTEXTS && !s.contexts.has(ctx.tag)) return `NOUPDATE "${ctx.tag}"`;
  s.contexts.set(ctx.tag, ctx);
  return undefined;
}

/** Re-evaluates every live context and reports the differences (RFC 5267 §4.3). */
export async function updateContexts(s: Session): Promise<void> {
  const sel = s.selected;
  if (!sel) return;
  for (const ctx of s.contexts.values()) {
    const now = ctx.crit ? (await sortedRows(s, ctx.key, ctx.crit)).map((r) => r.meta.uid) : (await runSearch(s, ctx.key)).uids;
    if (s.selected !== sel) return;
    const before = new Set(ctx.uids);
    const after = new Set(now);
    const removed = ctx.uids.filter((u) => !after.has(u));
    const num = (u: number) => (ctx.uid ? u : sel.indexOf(u) + 1);
    const parts: string[] = [];
    // Removed ones may be gone from the map already: by UID they can still be named.
    const gone = ctx.uid ? removed : removed.map(num).filter((n) => n > 0);
    if (gone.length) parts.push(`REMOVEFROM (0 ${formatSet(gone)})`);
    const added: string[] = [];
    for (let i = 0; i < now.length; i++) {
      if (before.has(now[i]!)) continue;
      // SEARCH results are a set (position 0); SORT gives where each one goes.
      added.push(`${ctx.crit ? i + 1 : 0} ${num(now[i]!)}`);
    }
    if (added.length) parts.push(`ADDTO (${added.join(" ")})`);
    ctx.uids = now;
    if (parts.length) s.send(`* ESEARCH (TAG "${ctx.tag}")${ctx.uid ? " UID" : ""} ${parts.join(" ")}`);
  }
}
