// RFC 5322 §3.4 address lists (with obsolete syntax and common breakage tolerated),
// shaped as RFC 9051 §7.5.2 ENVELOPE addresses: groups become a start marker
// (mailbox = group name, host = null) and an end marker (all null).
import type { EnvelopeAddress } from "./types.ts";

type Tok = { t: "atom"; v: string; space: boolean } | { t: "quoted"; v: string; space: boolean } | { t: "comment"; v: string } | { t: "special"; v: string };

const SPECIALS = "<>,;:@";
const MAX_ADDRESSES = 1000;

function tokenize(s: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  let space = false;
  while (i < s.length) {
    const c = s[i]!;
    if (c === " " || c === "\t" || c === "\r" || c === "\n") {
      space = true;
      i++;
    } else if (c === '"') {
      let v = "";
      i++;
      while (i < s.length && s[i] !== '"') {
        if (s[i] === "\\" && i + 1 < s.length) i++;
        v += s[i++];
      }
      i++;
      out.push({ t: "quoted", v, space });
      space = false;
    } else if (c === "(") {
      let depth = 1;
      let v = "";
      i++;
      while (i < s.length && depth > 0) {
        const d = s[i]!;
        if (d === "\\" && i + 1 < s.length) {
          v += s[i + 1];
          i += 2;
          continue;
        }
        if (d === "(") depth++;
        else if (d === ")" && --depth === 0) {
          i++;
          break;
        }
        v += d;
        i++;
      }
      out.push({ t: "comment", v: v.trim() });
      space = true;
    } else if (SPECIALS.includes(c)) {
      out.push({ t: "special", v: c });
      space = false;
      i++;
    } else {
      let v = "";
      while (i < s.length && !' \t\r\n"(<>,;:@'.includes(s[i]!)) v += s[i++];
      out.push({ t: "atom", v, space });
      space = false;
    }
  }
  return out;
}

/** Splits "local@host" at the last "@". */
function splitAddr(a: string): { mailbox: string; host: string } {
  const at = a.lastIndexOf("@");
  if (at < 0) return { mailbox: a, host: "" };
  return { mailbox: a.slice(0, at), host: a.slice(at + 1) };
}

function quoteLocal(v: string): string {
  return /[\s"\\()<>,;:@\[\]]/.test(v) || v === "" ? `"${v.replace(/(["\\])/g, "\\$1")}"` : v;
}

/** One address from its tokens (between separators). */
function toAddress(toks: Tok[]): EnvelopeAddress | null {
  // Only comments (e.g. "group: (comment) ;"): no address at all (RFC 3501 §7.4.2).
  if (toks.every((t) => t.t === "comment")) return null;
  const lt = toks.findIndex((t) => t.t === "special" && t.v === "<");
  let addr = "";
  let name = "";
  const comments: string[] = [];
  if (lt >= 0) {
    for (const t of toks.slice(0, lt)) {
      if (t.t === "comment") comments.push(t.v);
      else if (t.t !== "special") name += (name && t.space ? " " : "") + t.v;
      else name += t.v; // stray specials in a broken phrase (e.g. "a@b" <c@d>)
    }
    for (const t of toks.slice(lt + 1)) {
      if (t.t === "special" && t.v === ">") break;
      if (t.t === "comment") continue;
      addr += t.t === "quoted" ? quoteLocal(t.v) : t.v;
    }
    addr = addr.replace(/^@[^:]*:/, ""); // obs-route (RFC 5322 §4.4): no adl in IMAP4rev2
  } else {
    for (const t of toks) {
      if (t.t === "comment") comments.push(t.v);
      else addr += t.t === "quoted" ? quoteLocal(t.v) : t.v;
    }
  }
  if (!name && comments.length) name = comments.filter(Boolean).join(" ");
  if (!addr && !name) return null;
  const { mailbox, host } = splitAddr(addr);
  return { name: name.trim() || null, adl: null, mailbox, host };
}

/** Parses an address-list header value (raw; encoded words stay encoded). */
export function parseAddressList(value: string): EnvelopeAddress[] {
  const toks = tokenize(value);
  const out: EnvelopeAddress[] = [];
  let cur: Tok[] = [];
  let inAngle = false;
  let inGroup = false;
  const finish = () => {
    if (cur.length && out.length < MAX_ADDRESSES) {
      const a = toAddress(cur);
      if (a) out.push(a);
    }
    cur = [];
  };
  for (const tk of toks) {
    if (tk.t === "special") {
      if (inAngle) {
        if (tk.v === ">") inAngle = false;
        cur.push(tk);
        continue;
      }
      if (tk.v === "<") {
        inAngle = true;
        cur.push(tk);
        continue;
      }
      if (tk.v === ",") {
        finish();
        continue;
      }
      if (tk.v === ":" && !inGroup && !cur.some((t) => t.t === "special" && t.v === "@")) {
        // group start (RFC 5322 §3.4): display-name ":" [group-list] ";"
        let groupName = "";
        for (const t of cur) if (t.t === "atom" || t.t === "quoted") groupName += (groupName && t.space ? " " : "") + t.v;
        out.push({ name: null, adl: null, mailbox: groupName, host: null });
        cur = [];
        inGroup = true;
        continue;
      }
      if (tk.v === ";" && inGroup) {
        finish();
        out.push({ name: null, adl: null, mailbox: null, host: null });
        inGroup = false;
        continue;
      }
      if (tk.v === ";") {
        finish();
        continue;
      }
    }
    cur.push(tk);
  }
  finish();
  if (inGroup) out.push({ name: null, adl: null, mailbox: null, host: null });
  return out;
}
