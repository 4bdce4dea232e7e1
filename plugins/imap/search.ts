// RFC 9051 §6.4.4 search criteria: parsing every search key (AND/OR/NOT, MODSEQ of RFC 7162
// §3.1.5, "$" of RFC 5182, WITHIN of RFC 5032, SAVEDATE of RFC 8514, EMAILID/THREADID of
// RFC 8474) and evaluating them against the selected mailbox, for SEARCH, SORT, THREAD and
// CONTEXT updates. Answered from the stored metadata; message bytes are read only for
// BODY, TEXT and header fields not kept with the message.
import type { MessageMeta } from "../../core/store/types.ts";
import type { MimePart, MimePart as Part } from "../../core/mime/types.ts";
import { parseDate } from "./format.ts";
import { parseFlags } from "./flags.ts";
import { Args, ParseError } from "./parser.ts";
import { decodePartBody } from "./sections.ts";
import { decodeWords } from "../../core/mime/decode.ts";
import { inSet, parseSeqSet, type SeqSet } from "./sequence.ts";
import type { Session } from "./session.ts";
import { indexOfUid } from "./cache.ts";
import { searchObjectId } from "./objectid.ts";

export type Key =
  | { k: "all" }
  | { k: "none" }
  | { k: "flag"; flag: string; has: boolean }
  | { k: "recent"; has: boolean }
  | { k: "header"; field: string; value: string }
  | { k: "body"; value: string; text: boolean }
  | { k: "date"; sent: boolean; saved?: boolean; op: "before" | "on" | "since"; day: number }
  | { k: "within"; older: boolean; secs: number }
  | { k: "size"; larger: boolean; n: number }
  | { k: "set"; uid: boolean; set: SeqSet | "$" }
  | { k: "modseq"; n: number }
  | { k: "objectid"; thread: boolean; n: number }
  | { k: "not"; a: Key }
  | { k: "or"; a: Key; b: Key }
  | { k: "and"; list: Key[] };

const DAY = 86_400_000;
const MAX_DEPTH = 64;
const FLAG_KEYS: Record<string, [string, boolean]> = {
  ANSWERED: ["\\Answered", true],
  DELETED: ["\\Deleted", true],
  DRAFT: ["\\Draft", true],
  FLAGGED: ["\\Flagged", true],
  SEEN: ["\\Seen", true],
  UNANSWERED: ["\\Answered", false],
  UNDELETED: ["\\Deleted", false],
  UNDRAFT: ["\\Draft", false],
  UNFLAGGED: ["\\Flagged", false],
  UNSEEN: ["\\Seen", false],
};

function date(a: Args): number {
  const d = parseDate(a.astring());
  if (d === null) throw new ParseError("Invalid date");
  return d;
}

export function parseKey(a: Args, depth = 0): Key {
  if (depth > MAX_DEPTH) throw new ParseError("Search too deeply nested");
  const t = a.peek();
  if (!t) throw new ParseError("Missing search key");
  if (t.t === "list") {
    const l = a.list();
    const list: Key[] = [];
    while (!l.done()) list.push(parseKey(l, depth + 1));
    if (list.length === 0) throw new ParseError("Empty search list");
    return list.length === 1 ? list[0]! : { k: "and", list };
  }
  const word = a.atom();
  const up = word.toUpperCase();
  const flag = FLAG_KEYS[up];
  if (flag) return { k: "flag", flag: flag[0], has: flag[1] };
  switch (up) {
    case "ALL":
      return { k: "all" };
    // RFC 3501 §6.4.4 (IMAP4rev2 has no \Recent: the session's set is empty there).
    case "OLD":
      return { k: "recent", has: false };
    case "RECENT":
      return { k: "recent", has: true };
    case "NEW":
      return {
        k: "and",
        list: [
          { k: "recent", has: true },
          { k: "flag", flag: "\\Seen", has: false },
        ],
      };
    case "KEYWORD":
    case "UNKEYWORD": {
      const f = parseFlags(new Args([{ t: "atom", v: a.atom() }]))[0]!;
      return { k: "flag", flag: f, has: up === "KEYWORD" };
    }
    case "BCC":
    case "CC":
    case "FROM":
    case "SUBJECT":
    case "TO":
      return { k: "header", field: up.toLowerCase(), value: a.astring() };
    case "HEADER": {
      const field = a.astring().toLowerCase();
      return { k: "header", field, value: a.astring() };
    }
    case "BODY":
      return { k: "body", value: a.astring(), text: false };
    case "TEXT":
      return { k: "body", value: a.astring(), text: true };
    case "BEFORE":
      return { k: "date", sent: false, op: "before", day: date(a) };
    case "ON":
      return { k: "date", sent: false, op: "on", day: date(a) };
    case "SINCE":
      return { k: "date", sent: false, op: "since", day: date(a) };
    // RFC 8514 §4.2: the save date (every message has one here).
    case "SAVEDBEFORE":
      return { k: "date", sent: false, saved: true, op: "before", day: date(a) };
    case "SAVEDON":
      return { k: "date", sent: false, saved: true, op: "on", day: date(a) };
    case "SAVEDSINCE":
      return { k: "date", sent: false, saved: true, op: "since", day: date(a) };
    case "SAVEDATESUPPORTED":
      return { k: "all" };
    case "SENTBEFORE":
      return { k: "date", sent: true, op: "before", day: date(a) };
    case "SENTON":
      return { k: "date", sent: true, op: "on", day: date(a) };
    case "SENTSINCE":
      return { k: "date", sent: true, op: "since", day: date(a) };
    case "OLDER":
    case "YOUNGER": // RFC 5032 WITHIN
      return { k: "within", older: up === "OLDER", secs: a.number() };
    case "LARGER":
      return { k: "size", larger: true, n: a.number() };
    case "SMALLER":
      return { k: "size", larger: false, n: a.number() };
    case "UID": {
      const set = a.atom();
      return { k: "set", uid: true, set: set === "$" ? "$" : parseSeqSet(set) };
    }
    case "NOT":
      return { k: "not", a: parseKey(a, depth + 1) };
    case "OR": {
      const x = parseKey(a, depth + 1);
      return { k: "or", a: x, b: parseKey(a, depth + 1) };
    }
    case "MODSEQ": {
      // RFC 7162 §3.1.5: MODSEQ [entry-name entry-type] mod-sequence-valzer
      const t2 = a.peek();
      if (t2 && t2.t === "quoted") {
        a.token();
        a.atom();
      }
      return { k: "modseq", n: a.number() };
    }
    // RFC 8474 §5.2
    case "EMAILID":
      return { k: "objectid", thread: false, n: searchObjectId("e", a.astring()) };
    case "THREADID":
      return { k: "objectid", thread: true, n: searchObjectId("t", a.astring()) };
    default:
      if (/^[0-9:*,]+$/.test(word) || word === "$") return { k: "set", uid: false, set: word === "$" ? "$" : parseSeqSet(word) };
      throw new ParseError(`Unknown search key ${word.slice(0, 30)}`);
  }
}

export function walk(k: Key, fn: (k: Key) => void): void {
  fn(k);
  if (k.k === "not") walk(k.a, fn);
  else if (k.k === "or") {
    walk(k.a, fn);
    walk(k.b, fn);
  } else if (k.k === "and") k.list.forEach((x) => walk(x, fn));
}

const STORED_HEADERS = new Set(["subject", "from", "to", "cc", "bcc", "message-id"]);

interface Row {
  uid: number;
  seq: number;
  modseq: number;
  flags: string[];
  meta?: MessageMeta;
  bytes?: Uint8Array;
}

function headerValues(bytes: Uint8Array, root: MimePart, field: string): string[] {
  const head = Buffer.from(bytes.subarray(root.headerStart, root.bodyStart)).toString("utf8");
  const unfolded = head.replace(/\r?\n[ \t]/g, " ");
  const out: string[] = [];
  for (const line of unfolded.split(/\r?\n/)) {
    const i = line.indexOf(":");
    if (i > 0 && line.slice(0, i).trim().toLowerCase() === field) out.push(decodeWords(line.slice(i + 1).trim()));
  }
  return out;
}

function textOf(part: Part, bytes: Uint8Array, out: string[]): void {
  if (part.parts && part.parts.length) {
    for (const p of part.parts) textOf(p, bytes, out);
    return;
  }
  if (part.message) {
    out.push(Buffer.from(bytes.subarray(part.message.body.headerStart, part.message.body.bodyStart)).toString("utf8"));
    textOf(part.message.body, bytes, out);
    return;
  }
  if (part.type !== "text") return;
  const d = decodePartBody(part, bytes);
  const decoded = d === "unknown" ? bytes.subarray(part.bodyStart, part.end) : d;
  let text: string;
  try {
    text = new TextDecoder((part.params.charset ?? "utf-8") as "utf-8").decode(decoded);
  } catch {
    text = Buffer.from(decoded).toString("utf8");
  }
  out.push(text);
}

/** Case-insensitive substring test; the needle's lower-case form is computed once. */
const lowered = new Map<string, string>();
function lower(needle: string): string {
  let n = lowered.get(needle);
  if (n === undefined) {
    if (lowered.size > 256) lowered.clear();
    lowered.set(needle, (n = needle.toLowerCase()));
  }
  return n;
}
function includes(hay: string, needle: string): boolean {
  return hay.toLowerCase().includes(lower(needle));
}

/** A stored header field (subject, from …) in lower case, once per message: the cached
 *  metadata is shared and never changes for a (mailbox, UID). */
const storedLower = new WeakMap<MessageMeta, Map<string, string>>();
function includesStored(m: MessageMeta, field: string, hay: string, needle: string): boolean {
  let f = storedLower.get(m);
  if (!f) storedLower.set(m, (f = new Map()));
  let h = f.get(field);
  if (h === undefined) f.set(field, (h = hay.toLowerCase()));
  return h.includes(lower(needle));
}

function match(k: Key, r: Row, ctx: { maxUid: number; count: number; saved: Set<number>; now: number; recent: Set<number> }): boolean {
  switch (k.k) {
    case "all":
      return true;
    case "none":
      return false;
    case "flag":
      return r.flags.includes(k.flag) === k.has;
    case "recent":
      return ctx.recent.has(r.uid) === k.has;
    case "modseq":
      return r.modseq >= k.n;
    case "objectid":
      return (k.thread ? r.meta!.threadId : r.meta!.emailId) === k.n;
    case "set":
      if (k.set === "$") return ctx.saved.has(r.uid);
      return k.uid ? inSet(k.set, r.uid, ctx.maxUid) : inSet(k.set, r.seq, ctx.count);
    case "not":
      return !match(k.a, r, ctx);
    case "or":
      return match(k.a, r, ctx) || match(k.b, r, ctx);
    case "and":
      return k.list.every((x) => match(x, r, ctx));
    case "size":
      return k.larger ? r.meta!.size > k.n : r.meta!.size < k.n;
    case "date": {
      const m = r.meta!;
      // §6.4.4: dates disregard time and timezone: the Date: header's own calendar day;
      // internal dates are kept in UTC.
      const day = k.sent ? (headerDay(m.envelope.date) ?? Math.floor((m.sentDate ?? m.internalDate) / DAY) * DAY) : Math.floor((k.saved ? m.savedAt : m.internalDate) / DAY) * DAY;
      return k.op === "before" ? day < k.day : k.op === "on" ? day === k.day : day >= k.day;
    }
    case "within": {
      const age = (ctx.now - r.meta!.internalDate) / 1000;
      return k.older ? age >= k.secs : age <= k.secs;
    }
    case "header": {
      const m = r.meta!;
      if (STORED_HEADERS.has(k.field) && k.value !== "") {
        const v = k.field === "message-id" ? m.messageId : (m[k.field as "subject"] as string);
        if (includesStored(m, k.field, v, k.value)) return true;
        // Group names (RFC 5322 §3.4) are not in the stored address text: the envelope's
        // group-start markers have them.
        const list = k.field === "message-id" || k.field === "subject" ? null : m.envelope[k.field as "to"];
        if (list?.some((x) => x.host === null && x.mailbox !== null && includes(x.mailbox, k.value))) return true;
        if (!r.bytes) return false;
      }
      const vals = r.bytes ? headerValues(r.bytes, m.structure, k.field) : [];
      return vals.some((v) => includes(v, k.value));
    }
    case "body": {
      const m = r.meta!;
      const parts: string[] = [];
      if (k.text) parts.push(Buffer.from(r.bytes!.subarray(m.structure.headerStart, m.structure.bodyStart)).toString("utf8"));
      textOf(m.structure, r.bytes!, parts);
      return parts.some((p) => includes(p, k.value));
    }
  }
}

const MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];

/** The calendar day written in a Date: header (RFC 5322 §3.3), as UTC midnight ms. */
function headerDay(date: string | null): number | null {
  const m = date ? /(\d{1,2})\s+([A-Za-z]{3})\s+(\d{2,4})/.exec(date) : null;
  if (!m) return null;
  const mon = MONTHS.indexOf(m[2]!.toLowerCase());
  if (mon < 0) return null;
  let year = Number(m[3]);
  if (year < 50) year += 2000;
  else if (year < 1000) year += 1900;
  return Date.UTC(year, mon, Number(m[1]));
}

/** The UIDs (ascending) of messages in the session's map matching `key`. */
export async function runSearch(s: Session, key: Key): Promise<{ uids: number[]; seqs: number[]; modseqs: number[] }> {
  const sel = s.selected!;
  let needMeta = false;
  let needBytes = false;
  walk(key, (k) => {
    if (k.k === "size" || k.k === "date" || k.k === "within" || k.k === "header" || k.k === "objectid") needMeta = true;
    if (k.k === "body" || (k.k === "header" && (!STORED_HEADERS.has(k.field) || k.value === ""))) needMeta = needBytes = true;
  });
  // Sequence number (0 when not in the session's map), by binary search: no per-search Map.
  const seqOf = (uid: number): number => sel.indexOf(uid) + 1;
  const ctx = { maxUid: sel.uids.length ? sel.uids[sel.uids.length - 1]! : 0, count: sel.uids.length, saved: new Set(s.searchRes ?? []), now: Date.now(), recent: sel.recent };
  const out = { uids: [] as number[], seqs: [] as number[], modseqs: [] as number[] };
  const consider = (r: Row) => {
    if (match(key, r, ctx)) {
      out.uids.push(r.uid);
      out.seqs.push(r.seq);
      out.modseqs.push(r.modseq);
    }
  };
  const list = await s.opts.cache.uidList(sel.id);
  if (!needMeta) {
    for (const m of list) {
      const seq = seqOf(m.uid);
      if (seq) consider({ uid: m.uid, seq, modseq: m.modseq, flags: m.flags });
    }
    return out;
  }
  const uids = sel.uids.slice();
  for (let b = 0; b < uids.length; b += 500) {
    const metas = await s.opts.cache.messages(sel.id, uids.slice(b, b + 500));
    for (const m of metas) {
      const seq = seqOf(m.uid);
      const e = list[indexOfUid(list, m.uid)];
      if (!seq || !e) continue;
      const r: Row = { uid: m.uid, seq, modseq: e.modseq, flags: e.flags, meta: m };
      if (needBytes) r.bytes = await s.core.store.read(m);
      consider(r);
    }
  }
  return out;
}

/** Metadata of the messages a search selected (shared by SORT and THREAD). */
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
