// RFC 9051 §6.3.2 SELECT and §6.3.3 EXAMINE, with CONDSTORE (RFC 7162 §3.1.8) and
// QRESYNC (§3.2.5) parameters.
import { AUTHED, no, ok, type CommandSpec, type Ctx } from "../command.ts";
import { astr, formatSet } from "../format.ts";
import { canonicalName, fromWire } from "../names.ts";
import { ParseError } from "../parser.ts";
import { Selected } from "../selected.ts";
import { parseSeqSet, resolveUidSet } from "../sequence.ts";
import type { Session } from "../session.ts";
import { mailboxIdItem } from "../objectid.ts";

interface Qresync {
  uidvalidity: number;
  modseq: number;
  knownUids: string | null;
}

async function select(s: Session, c: Ctx, readOnly: boolean) {
  const name = canonicalName(fromWire(s, c.args.astring()));
  let qr: Qresync | null = null;
  if (c.args.isList()) {
    const l = c.args.list();
    while (!l.done()) {
      const p = l.atom().toUpperCase();
      if (p === "CONDSTORE") s.condstore = true;
      else if (p === "QRESYNC") {
        if (!s.qresync) throw new ParseError("QRESYNC not enabled");
        const q = l.list();
        qr = { uidvalidity: q.number(), modseq: q.number(), knownUids: null };
        if (!q.done() && !q.isList()) qr.knownUids = q.atom();
        if (!q.done()) q.list(); // sequence match data: we answer exactly, so it is not needed
        q.end();
        if (qr.uidvalidity === 0 || qr.modseq === 0) throw new ParseError("Bad QRESYNC parameters");
      } else throw new ParseError(`Unknown SELECT parameter ${p}`);
    }
  }
  c.args.end();
  // §6.3.2: a failed SELECT leaves no mailbox selected, too.
  if (s.selected) {
    s.deselect();
    if (s.qresync || s.rev2) s.send("* OK [CLOSED] Previous mailbox closed");
  }
  const mb = await s.core.store.getMailbox(s.accountId, name);
  if (!mb) return no("No such mailbox", "NONEXISTENT");
  const list = await s.opts.cache.uidList(mb.id, mb.highestModseq);
  const sel = new Selected(mb, readOnly, list);
  // The list holds every message below the uidnext read with it (complete to its modseq).
  if (mb.uidnext - 1 > sel.top) sel.top = mb.uidnext - 1;
  const keywords = sel.keywords;
  let firstUnseen = 0;
  let highest = mb.highestModseq;
  for (let i = 0; i < list.length; i++) {
    const m = list[i]!;
    for (const f of m.flags) if (!f.startsWith("\\")) keywords.add(f);
    if (!firstUnseen && !m.flags.includes("\\Seen")) firstUnseen = i + 1;
    if (m.modseq > highest) highest = m.modseq;
  }
  sel.mailbox = { ...mb, highestModseq: highest };
  s.selected = sel;
  s.state = "selected";
  s.sendFlags();
  s.send(`* ${list.length} EXISTS`);
  if (!s.rev2) {
    // RFC 3501 §2.3.2: SELECT takes the messages no session saw yet as \Recent; EXAMINE
    // only shows them (§6.3.2).
    const uids = list.map((m) => m.uid);
    const recent = readOnly ? await s.opts.recent.peek(mb.id, uids) : await s.opts.recent.claim(mb.id, uids);
    for (const u of recent) sel.recent.add(u);
    s.send(`* ${recent.length} RECENT`);
    if (firstUnseen && !s.uidOnly) s.send(`* OK [UNSEEN ${firstUnseen}] First unseen`);
  }
  s.send(`* OK [UIDVALIDITY ${mb.uidvalidity}] UIDs valid`);
  s.send(`* OK [UIDNEXT ${mb.uidnext}] Predicted next UID`);
  s.send(`* OK [HIGHESTMODSEQ ${highest}] Highest`);
  s.send(`* OK [${mailboxIdItem(mb)}] Ok`); // RFC 8474 §4.2
  if (s.rev2) s.send(`* LIST () "/" ${astr(s.wireName(mb.name), s.utf8)}`);
  if (qr && qr.uidvalidity === mb.uidvalidity) {
    // RFC 7162 §3.2.5.2: what vanished and what changed since the client's modseq.
    let vanished = await s.core.store.vanished(mb.id, qr.modseq);
    if (qr.knownUids) {
      const known = parseSeqSet(qr.knownUids);
      const sorted = [...vanished].sort((a, b) => a - b);
      vanished = resolveUidSet(known, sorted).map((i) => sorted[i]!);
    }
    if (vanished.length) s.send(`* VANISHED (EARLIER) ${formatSet(vanished)}`);
    for (let i = 0; i < list.length; i++) {
      const m = list[i]!;
      if (m.modseq > qr.modseq) s.sendFetch(i + 1, m.uid, s.flagItems(m.uid, m.flags, m.modseq));
    }
  }
  return ok(`${c.name} completed`, readOnly ? "READ-ONLY" : "READ-WRITE");
}

export const selectCmd: CommandSpec = { name: "SELECT", states: AUTHED, run: (s, c) => select(s, c, false) };
export const examineCmd: CommandSpec = { name: "EXAMINE", states: AUTHED, run: (s, c) => select(s, c, true) };
