// RFC 9051 §6.4.5 FETCH / §6.4.9 UID FETCH, with BINARY (RFC 3516), CONDSTORE's MODSEQ and
// CHANGEDSINCE (RFC 7162 §3.1.4) and QRESYNC's VANISHED modifier (§3.2.6). Answers come
// from the data stored at delivery; message bytes are read only for body sections.
import type { MessageMeta } from "../../../core/store/types.ts";
import { SELECTED, bad, no, ok, type CommandSpec } from "../command.ts";
import { flagList, formatBodyStructure, formatEnvelope, formatSet, imapDateTime, str } from "../format.ts";
import { ParseError, type Args } from "../parser.ts";
import { binaryBytes, parseSection, sectionBytes, sectionLabel, type Section } from "../sections.ts";
import { parseSeqSet, resolveSeqSet, resolveUidSet, type SeqSet, resolveSet } from "../sequence.ts";
import type { Session } from "../session.ts";
import { indexOfUid, type UidEntry } from "../cache.ts";
import { emailIdItem, threadIdItem } from "../objectid.ts";

type Item =
  | { k: "FLAGS" | "INTERNALDATE" | "RFC822.SIZE" | "ENVELOPE" | "BODYSTRUCTURE" | "BODY" | "UID" | "MODSEQ" | "PREVIEW" | "SAVEDATE" | "EMAILID" | "THREADID" }
  | { k: "RFC822" | "RFC822.HEADER" | "RFC822.TEXT" }
  | { k: "SECTION"; binary: boolean; peek: boolean; sec: Section; partial: [number, number] | null; size: boolean };

const MACROS: Record<string, string[]> = {
  ALL: ["FLAGS", "INTERNALDATE", "RFC822.SIZE", "ENVELOPE"],
  FAST: ["FLAGS", "INTERNALDATE", "RFC822.SIZE"],
  FULL: ["FLAGS", "INTERNALDATE", "RFC822.SIZE", "ENVELOPE", "BODY"],
};
const SIMPLE = new Set([
  "FLAGS",
  "INTERNALDATE",
  "RFC822.SIZE",
  "ENVELOPE",
  "BODYSTRUCTURE",
  "BODY",
  "UID",
  "MODSEQ",
  "RFC822",
  "RFC822.HEADER",
  "RFC822.TEXT",
  "PREVIEW",
  "SAVEDATE",
  "EMAILID",
  "THREADID",
]);
const BATCH = 200;

export function parseItem(raw: string): Item {
  const up = raw.toUpperCase();
  if (SIMPLE.has(up)) return { k: up } as Item;
  const m = /^(BODY\.PEEK|BODY|BINARY\.PEEK|BINARY\.SIZE|BINARY)\[([^\]]*)\](?:<(\d{1,15})\.(\d{1,15})>)?$/i.exec(raw);
  if (!m) throw new ParseError(`Unknown FETCH item ${raw.slice(0, 40)}`);
  const kind = m[1]!.toUpperCase();
  const sec = parseSection(m[2]!);
  const binary = kind.startsWith("BINARY");
  if (binary && sec.spec !== "") throw new ParseError("BINARY takes part numbers only");
  const size = kind === "BINARY.SIZE";
  if (size && m[3] !== undefined) throw new ParseError("BINARY.SIZE takes no partial");
  const partial: [number, number] | null = m[3] !== undefined ? [Number(m[3]), Number(m[4])] : null;
  if (partial && partial[1] === 0) throw new ParseError("Partial length must not be 0");
  return { k: "SECTION", binary, peek: kind.endsWith(".PEEK") || size, sec, partial, size };
}

function parseItems(a: Args): Item[] {
  const t = a.peek();
  if (t?.t === "atom" && MACROS[t.v.toUpperCase()]) return MACROS[a.atom().toUpperCase()]!.map((x) => ({ k: x }) as Item);
  const l = a.listOrOne();
  const items: Item[] = [];
  while (!l.done()) {
    const it = parseItem(l.atom());
    // RFC 8970 §3: PREVIEW (LAZY): ours is computed at delivery, so never lazy-absent.
    if (it.k === "PREVIEW" && l.isList()) {
      const mods = l.list();
      while (!mods.done()) if (mods.atom().toUpperCase() !== "LAZY") throw new ParseError("Unknown PREVIEW modifier");
    }
    items.push(it);
  }
  if (items.length === 0) throw new ParseError("Empty FETCH item list");
  return items;
}

/** Formatted items per message: metadata never changes for a (mailbox, UID) and the
 *  MailboxCache hands every session the same object, so each is built once. */
const formatted = new WeakMap<MessageMeta, Map<string, string>>();
function memo(m: MessageMeta, key: string, make: () => string): string {
  let f = formatted.get(m);
  if (!f) formatted.set(m, (f = new Map()));
  let v = f.get(key);
  if (v === undefined) f.set(key, (v = make()));
  return v;
}

/** RFC 3516 §4.2: BINARY data with a NUL goes out as a literal8 ("~{n}"). A plain literal
 *  may not carry NUL (RFC 9051 §4.3), so BODY data has its NULs shown as 0x80 (as Dovecot
 *  does): same length, nothing else changed. */
function literal(data: Uint8Array, binary: boolean): (string | Uint8Array)[] {
  const hasNul = data.includes(0);
  if (hasNul && !binary) data = Uint8Array.from(data, (b) => (b === 0 ? 0x80 : b));
  return [`${hasNul && binary ? "~" : ""}{${data.length}}\r\n`, data];
}

/** CHANGEDSINCE (RFC 7162 §3.1.4) and VANISHED (§3.2.6), then the end of the arguments. */
function parseModifiers(a: Args): { changedSince: number | null; vanished: boolean } {
  let changedSince: number | null = null;
  let vanished = false;
  if (a.isList()) {
    const l = a.list();
    while (!l.done()) {
      const m = l.atom().toUpperCase();
      if (m === "CHANGEDSINCE") changedSince = l.number();
      else if (m === "VANISHED") vanished = true;
      else throw new ParseError(`Unknown FETCH modifier ${m}`);
    }
  }
  a.end();
  return { changedSince, vanished };
}

/** RFC 7162 §3.2.6: the UIDs of the set expunged since `changedSince`. */
async function sendVanished(s: Session, set: string, changedSince: number): Promise<void> {
  const sel = s.selected!;
  const parsed: SeqSet = parseSeqSet(set);
  const gone = (await s.core.store.vanished(sel.id, changedSince)).sort((x, y) => x - y);
  const inSet = resolveUidSet(parsed, gone).map((i) => gone[i]!);
  const max = sel.uids.length ? sel.uids[sel.uids.length - 1]! : 0;
  const shown = inSet.filter((u) => u <= max || parsed.some(([, b]) => b === Infinity));
  if (shown.length) s.send(`* VANISHED (EARLIER) ${formatSet(shown)}`);
}

/** Rows of the listed UIDs with their metadata; flags and modseq from the (cached) list.
 *  Both ascending by UID: one merge pass. */
function withMeta(list: readonly UidEntry[], metas: MessageMeta[]): Row[] {
  const rows: Row[] = [];
  let j = metas.length ? Math.max(0, indexOfUid(list, metas[0]!.uid)) : 0;
  for (const m of metas) {
    while (j < list.length && list[j]!.uid < m.uid) j++;
    const e = list[j];
    if (e && e.uid === m.uid) rows.push({ uid: m.uid, modseq: e.modseq, flags: e.flags, meta: m });
  }
  return rows;
}

/** Rows of these UIDs (ascending, like the list) without metadata: one merge pass. */
function listRows(list: readonly UidEntry[], uids: number[]): Row[] {
  const rows: Row[] = [];
  let j = 0;
  for (const u of uids) {
    while (j < list.length && list[j]!.uid < u) j++;
    const e = list[j];
    if (e && e.uid === u) rows.push({ uid: u, modseq: e.modseq, flags: e.flags });
  }
  return rows;
}

const NONE: ReadonlySet<number> = new Set();

/** §6.4.5: fetching a body section sets \Seen (not .PEEK); the UIDs whose flags changed
 *  (their new flags are reported). */
async function markSeen(s: Session, rows: Row[]): Promise<ReadonlySet<number>> {
  const sel = s.selected!;
  const unseen = rows.filter((r) => !r.flags.includes("\\Seen")).map((r) => r.uid);
  if (!unseen.length) return NONE;
  const res = await s.core.store.setFlags(sel.id, unseen, "add", ["\\Seen"], { origin: s.conn.id });
  const byUid = new Map(res.changed.map((x) => [x.uid, x]));
  const seen = new Set<number>();
  for (const r of rows) {
    const ch = byUid.get(r.uid);
    if (ch) {
      r.flags = ch.flags;
      r.modseq = ch.modseq;
      sel.setModseq(r.uid, ch.modseq);
      seen.add(r.uid);
    }
  }
  return seen;
}

/** One FETCH response, reused from message to message: its items as one string until a
 *  literal of message bytes needs parts. */
class FetchLine {
  private text = "";
  private parts: (string | Uint8Array)[] = [];

  reset(): void {
    this.text = "";
    this.parts.length = 0;
  }

  add(item: string): void {
    this.text = this.text === "" && this.parts.length === 0 ? item : `${this.text} ${item}`;
  }

  /** `head` (e.g. "BODY[]"), then the bytes as a literal. */
  literal(head: string, data: Uint8Array, binary: boolean): void {
    this.add(head);
    this.parts.push(`${this.text} `, ...literal(data, binary));
    this.text = "";
  }

  send(s: Session, seq: number, uid: number): void {
    if (this.text === "" && this.parts.length === 0) this.text = `UID ${uid}`; // UID FETCH (UID) under UIDONLY
    const head = s.uidOnly ? `* ${uid} UIDFETCH (` : `* ${seq} FETCH (`;
    // Text only (no literal of message bytes): one string, one output part.
    if (this.parts.length === 0) s.send(`${head}${this.text})`);
    else s.sendParts([head, ...this.parts, `${this.text})`]);
  }
}

interface Row {
  uid: number;
  modseq: number;
  flags: string[];
  meta?: MessageMeta;
  ids?: { emailId: number; threadId: number };
}

/** The items after UID, FLAGS and MODSEQ, in the order asked; `bytes` is the message when
 *  an item needs it. Returns true when a BINARY part has an unknown encoding. (Kept apart
 *  from the command's async loop: small functions, quick to compile.) */
function addItems(s: Session, line: FetchLine, items: Item[], r: Row, bytes: Uint8Array | null): boolean {
  let unknownCte = false;
  const m = r.meta;
  for (const it of items) {
    switch (it.k) {
      case "FLAGS":
      case "UID":
      case "MODSEQ":
        break;
      case "INTERNALDATE":
        line.add(memo(m!, "D", () => `INTERNALDATE ${imapDateTime(m!.internalDate)}`));
        break;
      case "SAVEDATE": // RFC 8514 §4.1
        line.add(`SAVEDATE ${imapDateTime(m!.savedAt)}`);
        break;
      case "RFC822.SIZE":
        line.add(`RFC822.SIZE ${m!.size}`);
        break;
      case "EMAILID": // RFC 8474 §5.1
        line.add(emailIdItem((m ?? r.ids)!));
        break;
      case "THREADID":
        line.add(threadIdItem((m ?? r.ids)!));
        break;
      case "ENVELOPE":
        line.add(memo(m!, s.utf8 ? "E8" : "E", () => `ENVELOPE ${formatEnvelope(m!.envelope, s.utf8)}`));
        break;
      case "PREVIEW":
        line.add(`PREVIEW ${m!.preview ? str(m!.preview.slice(0, 256), s.utf8) : "NIL"}`);
        break;
      case "BODYSTRUCTURE":
        line.add(memo(m!, s.utf8 ? "S8" : "S", () => `BODYSTRUCTURE ${formatBodyStructure(m!.structure, true, s.utf8)}`));
        break;
      case "BODY":
        line.add(memo(m!, s.utf8 ? "B8" : "B", () => `BODY ${formatBodyStructure(m!.structure, false, s.utf8)}`));
        break;
      case "RFC822":
      case "RFC822.HEADER":
      case "RFC822.TEXT": {
        const spec = it.k === "RFC822" ? "" : it.k === "RFC822.HEADER" ? "HEADER" : "TEXT";
        line.literal(it.k, sectionBytes(m!.structure, bytes!, { path: [], spec, fields: [] }) ?? new Uint8Array(), false);
        break;
      }
      case "SECTION":
        if (addSection(line, it, m!, bytes!)) unknownCte = true;
        break;
    }
  }
  return unknownCte;
}

/** BODY[…], BINARY[…] and BINARY.SIZE[…] (RFC 9051 §6.4.5, RFC 3516 §4); true when the
 *  part's Content-Transfer-Encoding is unknown. */
function addSection(line: FetchLine, it: Extract<Item, { k: "SECTION" }>, m: MessageMeta, msg: Uint8Array): boolean {
  let unknownCte = false;
  let data: Uint8Array | null;
  if (it.binary) {
    const d = binaryBytes(m.structure, msg, it.sec);
    if (d === "unknown") {
      unknownCte = true;
      data = null;
    } else data = d;
  } else data = sectionBytes(m.structure, msg, it.sec);
  const label = sectionLabel(it.sec);
  if (it.size) {
    line.add(`BINARY.SIZE[${label}] ${data ? data.length : 0}`);
    return unknownCte;
  }
  const name = it.binary ? "BINARY" : "BODY";
  let origin = "";
  if (data && it.partial) {
    const [start, len] = it.partial;
    data = data.subarray(Math.min(start, data.length), Math.min(start + len, data.length));
    origin = `<${start}>`;
  }
  if (data === null) line.add(`${name}[${label}]${origin} NIL`);
  else line.literal(`${name}[${label}]${origin}`, data, it.binary);
  return unknownCte;
}

export const fetch: CommandSpec = {
  name: "FETCH",
  states: SELECTED,
  uid: true,
  noExpunge: true,
  async run(s, c) {
    const sel = s.selected!;
    const set = c.args.atom();
    const items = parseItems(c.args);
    const { changedSince, vanished } = parseModifiers(c.args);
    // RFC 7162 §3.2.6: VANISHED needs UID FETCH, CHANGEDSINCE and QRESYNC enabled.
    if (vanished && (!c.uid || changedSince === null || !s.qresync)) return bad("VANISHED needs UID FETCH, CHANGEDSINCE and QRESYNC");
    if (changedSince !== null || items.some((i) => i.k === "MODSEQ")) await s.enableCondstore();
    const idx = resolveSet(s, set, c.uid);
    if (idx === null) return bad("Invalid sequence set");
    if (vanished && changedSince !== null) await sendVanished(s, set, changedSince);
    // Under UIDONLY the UID names the response (UIDFETCH, RFC 9586 §3.3).
    const wantUid = !s.uidOnly && (c.uid || items.some((i) => i.k === "UID"));
    const wantModseq = s.condstore && (changedSince !== null || items.some((i) => i.k === "MODSEQ" || i.k === "FLAGS"));
    const needMeta = items.some((i) => !["FLAGS", "UID", "MODSEQ", "EMAILID", "THREADID"].includes(i.k));
    // OBJECTID alone (imapflow adds EMAILID to every FETCH): the ids, not the whole row.
    const wantIds = !needMeta && items.some((i) => i.k === "EMAILID" || i.k === "THREADID");
    const setsSeen = !sel.readOnly && items.some((i) => (i.k === "SECTION" && !i.peek) || i.k === "RFC822" || i.k === "RFC822.TEXT");
    const wantFlags = items.some((i) => i.k === "FLAGS");
    const uids = idx.map((i) => sel.uids[i]!);
    let unknownCte = false;
    const needBytes = items.some((i) => i.k === "SECTION" || i.k === "RFC822" || i.k === "RFC822.HEADER" || i.k === "RFC822.TEXT");
    const line = new FetchLine();

    for (let b = 0; b < uids.length; b += needMeta ? BATCH : uids.length || 1) {
      const batch = needMeta ? uids.slice(b, b + BATCH) : uids;
      // Flags and modseq from the (cached) list; metadata from the (cached) messages.
      const list = await s.opts.cache.uidList(sel.id);
      let rows = needMeta ? withMeta(list, await s.opts.cache.messages(sel.id, batch)) : listRows(list, batch);
      if (changedSince !== null) rows = rows.filter((r) => r.modseq > changedSince!);
      if (wantIds) {
        const ids = await s.opts.cache.objectIds(
          sel.id,
          rows.map((r) => r.uid),
        );
        for (const r of rows) r.ids = ids.get(r.uid);
        rows = rows.filter((r) => r.ids); // (expunged meanwhile)
      }
      const seenSet = setsSeen ? await markSeen(s, rows) : NONE;
      for (const r of rows) {
        if (s.isClosed) return null;
        // (The map does not change while a command runs: syncSelected comes after it.)
        const seq = sel.indexOf(r.uid) + 1;
        if (!seq) continue;
        const bytes = needBytes ? await s.core.store.read(r.meta!) : null;
        line.reset();
        if (wantUid) line.add(`UID ${r.uid}`);
        if (wantFlags || seenSet.has(r.uid)) line.add(`FLAGS ${s.flagsOf(r.uid, r.flags)}`);
        if (wantModseq) line.add(`MODSEQ (${r.modseq})`);
        if (addItems(s, line, items, r, bytes)) unknownCte = true;
        line.send(s, seq, r.uid);
        if (bytes) await s.drainIfNeeded();
      }
    }
    if (unknownCte) return no("Unknown Content-Transfer-Encoding", "UNKNOWN-CTE");
    return ok(`${c.uid ? "UID " : ""}FETCH completed`);
  },
};
