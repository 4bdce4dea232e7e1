// Parsing of SMTP command arguments: MAIL FROM / RCPT TO paths and their ESMTP
// parameters (RFC 5321 §4.1.2), SMTPUTF8 addresses (RFC 6531 §3.3), xtext (RFC 3461 §4).
import { domainToUnicode } from "node:url";
import type { Address, Reply } from "../../core/types.ts";

export interface CommandLine {
  verb: string; // upper-case
  args: string;
}

export function splitCommand(line: string): CommandLine {
  const s = line.replace(/[ \t]+$/, "");
  const sp = s.search(/[ \t]/);
  if (sp < 0) return { verb: s.toUpperCase(), args: "" };
  return { verb: s.slice(0, sp).toUpperCase(), args: s.slice(sp + 1).replace(/^[ \t]+/, "") };
}

export type PathResult = { ok: true; addr: Address; utf8: boolean } | { ok: false; reply: Reply };

const bad = (code: number, enhanced: string, text: string): PathResult => ({ ok: false, reply: { code, enhanced, text } });

// RFC 5321 §4.1.2 atext; RFC 6531 §3.3 adds UTF-8 (any non-ASCII code point).
const ATOM = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~\u0080-\uffff-]+$/u;
const LABEL = /^(?:[A-Za-z0-9\u0080-\uffff](?:[A-Za-z0-9\u0080-\uffff-]*[A-Za-z0-9\u0080-\uffff])?)$/u;
const PARAM_KEY = /^[A-Za-z0-9][A-Za-z0-9-]*$/;
// esmtp-value: %d33-60 / %d62-126, plus UTF-8 (RFC 6531 §3.3).
const PARAM_VALUE = /^[\x21-\x3c\x3e-\x7e\u0080-\uffff]+$/u;

/** Parse "FROM:<path> params" or "TO:<path> params". */
export function parsePath(args: string, keyword: "FROM" | "TO"): PathResult {
  const syntax = keyword === "FROM" ? "Syntax: MAIL FROM:<address> [parameters]" : "Syntax: RCPT TO:<address> [parameters]";
  if (args.slice(0, keyword.length + 1).toUpperCase() !== `${keyword}:`) return bad(501, "5.5.4", syntax);
  let rest = args.slice(keyword.length + 1).replace(/^[ \t]+/, "");
  let path: string;
  if (rest.startsWith("<")) {
    const close = closingBracket(rest);
    if (close < 0) return bad(501, "5.1.7", "Unbalanced angle brackets or quotes in address");
    path = rest.slice(1, close);
    rest = rest.slice(close + 1);
    if (rest !== "" && !/^[ \t]/.test(rest)) return bad(501, "5.5.4", syntax);
  } else {
    // Lenient: a bare address without brackets (old clients); never with spaces.
    const sp = rest.search(/[ \t]/);
    path = sp < 0 ? rest : rest.slice(0, sp);
    rest = sp < 0 ? "" : rest.slice(sp);
    if (path === "") return bad(501, "5.5.4", syntax);
  }
  const params = parseParams(rest);
  if (!params.ok) return params;
  // RFC 5321 §4.1.2: a source route ("@a,@b:") is accepted and ignored.
  const route = /^@[^:]*:/.exec(path);
  if (route) path = path.slice(route[0].length);
  const utf8 = /[^\x00-\x7f]/.test(path);
  if (path === "") {
    if (keyword === "TO") return bad(501, "5.1.3", "The null address is not a valid recipient");
    return { ok: true, addr: { address: "", local: "", domain: "", params: params.params }, utf8: false };
  }
  if (Buffer.byteLength(path) > 254) return bad(501, "5.1.3", "Address too long (RFC 5321 section 4.5.3.1.3)");
  const at = lastAtOutsideQuotes(path);
  if (at < 0) {
    // RFC 5321 §4.1.1.3: RCPT TO:<Postmaster> without a domain must be accepted.
    if (keyword === "TO" && path.toLowerCase() === "postmaster") return { ok: true, addr: { address: "postmaster", local: "postmaster", domain: "", params: params.params }, utf8: false };
    return bad(501, "5.1.3", "Address must be user@domain");
  }
  const local = path.slice(0, at);
  const domainRaw = path.slice(at + 1);
  if (!validLocal(local)) return bad(501, "5.1.3", "Invalid local part in address");
  if (Buffer.byteLength(local) > 64) return bad(501, "5.1.3", "Local part too long (RFC 5321 section 4.5.3.1.1)");
  const domain = normalizeDomain(domainRaw);
  if (domain === null) return bad(501, "5.1.2", "Invalid domain in address");
  return { ok: true, addr: { address: `${local}@${domainRaw}`, local, domain, params: params.params }, utf8 };
}

/** Index of the ">" that closes the path starting at 0, skipping quoted strings. */
function closingBracket(s: string): number {
  let q = false;
  for (let i = 1; i < s.length; i++) {
    const c = s[i];
    if (q) {
      if (c === "\\") i++;
      else if (c === '"') q = false;
    } else if (c === '"') q = true;
    else if (c === ">") return i;
    else if (c === "<") return -1;
  }
  return -1;
}

function lastAtOutsideQuotes(s: string): number {
  let q = false;
  let at = -1;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (q) {
      if (c === "\\") i++;
      else if (c === '"') q = false;
    } else if (c === '"') q = true;
    else if (c === "@") at = i;
  }
  return at;
}

/** Dot-string or Quoted-string (RFC 5321 §4.1.2). */
function validLocal(local: string): boolean {
  if (local === "") return false;
  if (local.startsWith('"')) return /^"(?:[\x20\x21\x23-\x5b\x5d-\x7e\u0080-\uffff]|\\[\x20-\x7e])*"$/u.test(local);
  return local.split(".").every((atom) => ATOM.test(atom));
}

/** Lower-case, U-label form; address literals kept as given. Null when invalid. */
export function normalizeDomain(d: string): string | null {
  if (d.startsWith("[")) return /^\[[\x21-\x5a\x5e-\x7e]+\]$/.test(d) ? d.toLowerCase() : null;
  if (d === "" || Buffer.byteLength(d) > 255) return null;
  const labels = d.split(".");
  if (!labels.every((l) => l.length > 0 && l.length <= 63 && LABEL.test(l))) return null;
  const lower = d.normalize("NFC").toLowerCase();
  if (!/(^|\.)xn--/.test(lower)) return lower;
  const u = domainToUnicode(lower);
  return u === "" ? null : u;
}

type ParamsResult = { ok: true; params: Record<string, string | true> } | { ok: false; reply: Reply };

function parseParams(s: string): ParamsResult {
  const params: Record<string, string | true> = {};
  for (const p of s.split(/[ \t]+/)) {
    if (p === "") continue;
    const eq = p.indexOf("=");
    const key = (eq < 0 ? p : p.slice(0, eq)).toUpperCase();
    if (!PARAM_KEY.test(key)) return { ok: false, reply: { code: 501, enhanced: "5.5.4", text: "Invalid parameter syntax" } };
    if (eq < 0) params[key] = true;
    else {
      const value = p.slice(eq + 1);
      if (!PARAM_VALUE.test(value)) return { ok: false, reply: { code: 501, enhanced: "5.5.4", text: `Invalid value for ${key}` } };
      params[key] = value;
    }
    if (Object.keys(params).length > 16) return { ok: false, reply: { code: 501, enhanced: "5.5.4", text: "Too many parameters" } };
  }
  return { ok: true, params };
}

/** RFC 3461 §4: xtext = *( xchar / "+" 2HEXCHAR ). Null when malformed. */
export function decodeXtext(s: string): string | null {
  if (!/^(?:[\x21-\x2a\x2c-\x3c\x3e-\x7e]|\+[0-9A-F]{2})*$/.test(s)) return null;
  return s.replace(/\+([0-9A-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
}

export interface MailParams {
  size?: number;
  body?: "7BIT" | "8BITMIME";
  smtputf8: boolean;
  ret?: "FULL" | "HDRS";
  envid?: string;
}

/** MAIL FROM parameters we announce: SIZE (RFC 1870), BODY (RFC 6152), SMTPUTF8
 *  (RFC 6531), RET/ENVID (RFC 3461 §4.3-4.4), AUTH (RFC 4954 §5, accepted and ignored). */
export function mailParams(params: Record<string, string | true>): { ok: true; value: MailParams } | { ok: false; reply: Reply } {
  const out: MailParams = { smtputf8: false };
  const no = (text: string, code = 501, enhanced = "5.5.4") => ({ ok: false as const, reply: { code, enhanced, text } });
  for (const [k, v] of Object.entries(params)) {
    switch (k) {
      case "SIZE":
        if (v === true || !/^\d{1,15}$/.test(v)) return no("SIZE needs a number");
        out.size = Number(v);
        break;
      case "BODY": {
        const b = v === true ? "" : v.toUpperCase();
        if (b !== "7BIT" && b !== "8BITMIME") return no("BODY must be 7BIT or 8BITMIME", 555);
        out.body = b;
        break;
      }
      case "SMTPUTF8":
        if (v !== true) return no("SMTPUTF8 takes no value");
        out.smtputf8 = true;
        break;
      case "RET": {
        const r = v === true ? "" : v.toUpperCase();
        if (r !== "FULL" && r !== "HDRS") return no("RET must be FULL or HDRS");
        out.ret = r;
        break;
      }
      case "ENVID": {
        const e = v === true ? null : decodeXtext(v);
        if (e === null || e.length > 100) return no("Invalid ENVID");
        out.envid = e;
        break;
      }
      case "AUTH":
        break;
      default:
        return no(`Unsupported parameter ${k}`, 555);
    }
  }
  return { ok: true, value: out };
}

export interface RcptParams {
  notify?: string[];
  orcpt?: string;
}

/** RCPT TO parameters: NOTIFY and ORCPT (RFC 3461 §4.1-4.2). */
export function rcptParams(params: Record<string, string | true>): { ok: true; value: RcptParams } | { ok: false; reply: Reply } {
  const out: RcptParams = {};
  const no = (text: string, code = 501) => ({ ok: false as const, reply: { code, enhanced: "5.5.4", text } });
  for (const [k, v] of Object.entries(params)) {
    switch (k) {
      case "NOTIFY": {
        if (v === true) return no("NOTIFY needs a value");
        const list = v.toUpperCase().split(",");
        const okList = list.every((x) => x === "SUCCESS" || x === "FAILURE" || x === "DELAY");
        if (!(list.length === 1 && list[0] === "NEVER") && !okList) return no("NOTIFY must be NEVER or SUCCESS,FAILURE,DELAY");
        out.notify = list;
        break;
      }
      case "ORCPT": {
        if (v === true) return no("ORCPT needs a value");
        const semi = v.indexOf(";");
        const type = v.slice(0, semi);
        const addr = semi > 0 ? decodeXtext(v.slice(semi + 1)) : null;
        // RFC 6533 utf-8 addresses use their own encoding; keep the value as given then.
        if (semi <= 0 || !/^[A-Za-z0-9-]+$/.test(type) || (addr === null && type.toLowerCase() !== "utf-8")) return no("Invalid ORCPT");
        out.orcpt = `${type};${addr ?? v.slice(semi + 1)}`;
        break;
      }
      default:
        return no(`Unsupported parameter ${k}`, 555);
    }
  }
  return { ok: true, value: out };
}
