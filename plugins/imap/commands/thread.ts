// RFC 5256 THREAD / UID THREAD with ORDEREDSUBJECT and REFERENCES.
import type { MessageMeta } from "../../../core/store/types.ts";
import { SELECTED, bad, no, ok, type CommandSpec } from "../command.ts";
import type { Session } from "../session.ts";
import { baseSubject } from "../subject.ts";
import { parseCriteriaTail, searched } from "../search.ts";

interface Row {
  seq: number;
  meta: MessageMeta;
}
interface Node {
  msg: Row | null;
  parent: Node | null;
  children: Node[];
}

const sentDate = (r: Row) => r.meta.sentDate ?? r.meta.internalDate;
const node = (msg: Row | null = null): Node => ({ msg, parent: null, children: [] });

function adopt(parent: Node, child: Node): void {
  if (child.parent) child.parent.children = child.parent.children.filter((c) => c !== child);
  child.parent = parent;
  parent.children.push(child);
}

function isAncestor(a: Node, b: Node): boolean {
  for (let x: Node | null = b; x; x = x.parent) if (x === a) return true;
  return false;
}

/** The date a (possibly dummy) container sorts by: its message's, or its first child's. */
function dateOf(n: Node): number {
  if (n.msg) return sentDate(n.msg);
  return n.children.length ? dateOf(n.children[0]!) : 0;
}
function seqOf(n: Node): number {
  if (n.msg) return n.msg.seq;
  return n.children.length ? seqOf(n.children[0]!) : 0;
}

function sortTree(list: Node[]): void {
  for (const n of list) sortTree(n.children);
  list.sort((a, b) => dateOf(a) - dateOf(b) || seqOf(a) - seqOf(b));
}

function format(n: Node, num: (r: Row) => number): string {
  const parts: string[] = [];
  if (n.msg) parts.push(String(num(n.msg)));
  if (n.children.length === 1) parts.push(format(n.children[0]!, num));
  else if (n.children.length > 1) parts.push(n.children.map((c) => `(${format(c, num)})`).join(""));
  return parts.join(" ");
}

function msgIds(v: string | null | undefined): string[] {
  return v ? [...v.matchAll(/<[^<>\s]+>/g)].map((m) => m[0]) : [];
}

/** RFC 5256 §3 ORDEREDSUBJECT. */
function orderedSubject(rows: Row[]): Node[] {
  const groups = new Map<string, Row[]>();
  for (const r of [...rows].sort((a, b) => sentDate(a) - sentDate(b) || a.seq - b.seq)) {
    const base = baseSubject(r.meta.subject).base;
    groups.set(base, [...(groups.get(base) ?? []), r]);
  }
  const roots: Node[] = [];
  for (const g of groups.values()) {
    const top = node(g[0]!);
    for (const r of g.slice(1)) adopt(top, node(r));
    roots.push(top);
  }
  return roots.sort((a, b) => dateOf(a) - dateOf(b) || seqOf(a) - seqOf(b));
}

/** RFC 5256 §3 REFERENCES. */
async function references(s: Session, rows: Row[]): Promise<Node[]> {
  const table = new Map<string, Node>();
  const get = (id: string) => {
    let n = table.get(id);
    if (!n) table.set(id, (n = node()));
    return n;
  };
  for (const r of rows) {
    // (1) the message's container; a missing or duplicate Message-ID gets a unique one.
    let id = msgIds(r.meta.envelope.messageId)[0] ?? r.meta.messageId;
    if (!id || table.get(id)?.msg) id = `<no-id-${r.seq}@kotakpos>`;
    const n = get(id);
    n.msg = r;
    const bytes = await s.core.store.read(r.meta);
    const head = Buffer.from(bytes.subarray(r.meta.structure.headerStart, r.meta.structure.bodyStart))
      .toString("latin1")
      .replace(/\r?\n[ \t]/g, " ");
    const refLine = /^references:(.*)$/im.exec(head)?.[1];
    let refs = msgIds(refLine);
    if (refs.length === 0) refs = msgIds(r.meta.envelope.inReplyTo).slice(0, 1);
    // (1A) link the references in order, never making a loop or moving a parent.
    let prev: Node | null = null;
    for (const ref of refs) {
      const c = get(ref);
      if (prev && c !== prev && !c.parent && !isAncestor(c, prev)) adopt(prev, c);
      prev = c;
    }
    // (1B) the last reference is this message's parent.
    if (n.parent) {
      n.parent.children = n.parent.children.filter((x) => x !== n);
      n.parent = null;
    }
    if (prev && prev !== n && !isAncestor(n, prev)) adopt(prev, n);
  }
  // (2) the root set.
  let roots = [...table.values()].filter((n) => !n.parent);
  // (4) prune dummies.
  const prune = (list: Node[], atRoot: boolean): Node[] => {
    const out: Node[] = [];
    for (const n of list) {
      n.children = prune(n.children, false);
      for (const c of n.children) c.parent = n;
      if (!n.msg) {
        if (n.children.length === 0) continue;
        if (!atRoot || n.children.length === 1) {
          for (const c of n.children) c.parent = n.parent;
          out.push(...n.children);
          continue;
        }
      }
      out.push(n);
    }
    return out;
  };
  roots = prune(roots, true);
  for (const r of roots) r.parent = null;
  sortTree(roots);
  // (5) gather threads with the same base subject.
  const subjOf = (n: Node) => (n.msg ?? n.children[0]?.msg)?.meta.subject ?? "";
  const anchor = new Map<string, Node>();
  const out: Node[] = [];
  const replace = (oldN: Node, newN: Node) => (out[out.indexOf(oldN)] = newN);
  for (const r of roots) {
    const { base, reply } = baseSubject(subjOf(r));
    const a = base ? anchor.get(base) : undefined;
    if (!a) {
      if (base) anchor.set(base, r);
      out.push(r);
      continue;
    }
    const aReply = baseSubject(subjOf(a)).reply;
    if (!a.msg && !r.msg) for (const c of [...r.children]) adopt(a, c);
    else if (!a.msg) adopt(a, r);
    else if (!r.msg) {
      adopt(r, a);
      replace(a, r);
      anchor.set(base, r);
    } else if (!aReply && reply) adopt(a, r);
    else if (aReply && !reply) {
      adopt(r, a);
      replace(a, r);
      anchor.set(base, r);
    } else {
      const d = node();
      replace(a, d);
      adopt(d, a);
      adopt(d, r);
      anchor.set(base, d);
    }
  }
  // (6) children in date order at every level.
  sortTree(out);
  return out;
}

export const thread: CommandSpec = {
  name: "THREAD",
  states: SELECTED,
  uid: true,
  noExpunge: true,
  async run(s, c) {
    const alg = c.args.atom().toUpperCase();
    if (alg !== "ORDEREDSUBJECT" && alg !== "REFERENCES") return bad("Unknown threading algorithm");
    const key = parseCriteriaTail(c.args);
    if (!key) return no("Unsupported charset", "BADCHARSET (UTF-8 US-ASCII)");
    const rows = await searched(s, key);
    const roots = alg === "ORDEREDSUBJECT" ? orderedSubject(rows) : await references(s, rows);
    const num = (r: Row) => (c.uid ? r.meta.uid : r.seq);
    s.send(`* THREAD${roots.length ? " " : ""}${roots.map((n) => `(${format(n, num)})`).join("")}`);
    return ok(`${c.uid ? "UID " : ""}THREAD completed`);
  },
};
