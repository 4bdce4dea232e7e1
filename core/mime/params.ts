// Structured MIME header values: Content-Type / Content-Disposition with parameters
// (RFC 2045 §5.1, RFC 2183), RFC 2231 continuations and charset/language encoding.
import { decodeCharset } from "./text.ts";

export interface ValueWithParams {
  /** The main value, lower-cased ("text/plain", "attachment"), comments removed. */
  value: string;
  /** Parameter names lower-cased, values unquoted and RFC 2231-decoded. */
  params: Record<string, string>;
}

const MAX_PARAMS = 100;

/** Removes RFC 5322 comments "(…)" outside quoted strings. */
export function stripComments(s: string): string {
  if (!s.includes("(")) return s;
  let out = "";
  let depth = 0;
  let quoted = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === "\\" && (quoted || depth > 0)) {
      if (depth === 0) out += c + (s[i + 1] ?? "");
      i++;
    } else if (quoted) {
      out += c;
      if (c === '"') quoted = false;
    } else if (c === "(") depth++;
    else if (c === ")" && depth > 0) depth--;
    else if (depth === 0) {
      if (c === '"') quoted = true;
      out += c;
    }
  }
  return out;
}

/** Splits on ";" outside quoted strings. */
function splitParams(s: string): string[] {
  const out: string[] = [];
  let cur = "";
  let quoted = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (quoted) {
      cur += c;
      if (c === "\\" && i + 1 < s.length) cur += s[++i];
      else if (c === '"') quoted = false;
    } else if (c === '"') {
      quoted = true;
      cur += c;
    } else if (c === ";") {
      out.push(cur);
      cur = "";
    } else cur += c;
  }
  out.push(cur);
  return out;
}

function unquote(v: string): string {
  v = v.trim();
  if (v.length >= 2 && v.startsWith('"') && v.endsWith('"')) {
    return v.slice(1, -1).replace(/\\(.)/g, "$1");
  }
  if (v.startsWith('"')) return v.slice(1).replace(/\\(.)/g, "$1"); // unterminated quote
  return v;
}

function percentBytes(s: string): Uint8Array {
  const out: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 37 && i + 2 < s.length + 0 && /^[0-9a-fA-F]{2}$/.test(s.slice(i + 1, i + 3))) {
      out.push(parseInt(s.slice(i + 1, i + 3), 16));
      i += 2;
    } else if (c < 128) out.push(c);
    else for (const b of new TextEncoder().encode(s[i]!)) out.push(b);
  }
  return new Uint8Array(out);
}

/** Parses `value; name=val; name*0*=charset'lang'%XX…`. */
export function parseValueWithParams(raw: string): ValueWithParams {
  const pieces = splitParams(stripComments(raw));
  const value = pieces[0]!.trim().toLowerCase().replace(/\s+/g, "");
  const plain: Record<string, string> = {};
  // RFC 2231 §3/§4: name*N[*]=… pieces, reassembled in order; charset from piece 0.
  const ext = new Map<string, { idx: number; val: string; enc: boolean }[]>();
  let count = 0;
  for (let i = 1; i < pieces.length && count < MAX_PARAMS; i++) {
    const p = pieces[i]!;
    const eq = p.indexOf("=");
    if (eq <= 0) continue;
    const name = p.slice(0, eq).trim().toLowerCase();
    const val = p.slice(eq + 1);
    if (!name) continue;
    count++;
    const m = /^([^*]+)\*(?:(\d+)\*?)?$/.exec(name);
    if (m && name.includes("*")) {
      const base = m[1]!;
      const idx = m[2] === undefined ? 0 : Number(m[2]);
      const enc = name.endsWith("*");
      const list = ext.get(base) ?? [];
      if (list.length < MAX_PARAMS) list.push({ idx, val: enc ? val.trim() : unquote(val), enc });
      ext.set(base, list);
    } else if (!(name in plain)) {
      plain[name] = unquote(val);
    }
  }
  const params: Record<string, string> = plain;
  for (const [base, list] of ext) {
    list.sort((a, b) => a.idx - b.idx);
    let charset = "";
    const chunks: Uint8Array[] = [];
    for (const [i, piece] of list.entries()) {
      let v = piece.val;
      if (piece.enc) {
        if (i === 0) {
          const q1 = v.indexOf("'");
          const q2 = q1 >= 0 ? v.indexOf("'", q1 + 1) : -1;
          if (q2 >= 0) {
            charset = v.slice(0, q1);
            v = v.slice(q2 + 1);
          }
        }
        chunks.push(percentBytes(unquote(v)));
      } else {
        chunks.push(new TextEncoder().encode(v));
      }
    }
    const total = chunks.reduce((n, c) => n + c.length, 0);
    const all = new Uint8Array(total);
    let o = 0;
    for (const c of chunks) {
      all.set(c, o);
      o += c.length;
    }
    params[base] = decodeCharset(all, charset || "utf-8");
  }
  return { value, params };
}
