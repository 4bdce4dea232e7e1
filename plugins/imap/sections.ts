// BODY[section] and BINARY[section] (RFC 9051 §6.4.5, RFC 3516): sections are sliced out
// of the stored message bytes with the byte offsets kept in the parsed structure.
import type { MimePart } from "../../core/mime/types.ts";
import { decodeQP } from "../../core/mime/decode.ts";
import { ParseError } from "./parser.ts";

export interface Section {
  /** Part numbers, [] for the whole message. */
  path: number[];
  /** "" (the part / whole message), HEADER, HEADER.FIELDS, HEADER.FIELDS.NOT, TEXT, MIME. */
  spec: "" | "HEADER" | "HEADER.FIELDS" | "HEADER.FIELDS.NOT" | "TEXT" | "MIME";
  fields: string[];
}

/** Parses the text between [ and ] of a fetch item. */
export function parseSection(s: string): Section {
  const m = /^((?:[1-9]\d{0,5}\.)*(?:[1-9]\d{0,5}))?(?:\.?(HEADER\.FIELDS\.NOT|HEADER\.FIELDS|HEADER|TEXT|MIME))?(?: \((.*)\))?$/i.exec(s.trim());
  if (!m) throw new ParseError("Bad section");
  const path = m[1] ? m[1].split(".").map(Number) : [];
  const spec = (m[2]?.toUpperCase() ?? "") as Section["spec"];
  if (m[2] && m[1] && !s.slice(m[1].length).startsWith(".")) throw new ParseError("Bad section");
  if (spec === "MIME" && path.length === 0) throw new ParseError("MIME needs a part number");
  const wantsFields = spec === "HEADER.FIELDS" || spec === "HEADER.FIELDS.NOT";
  if (wantsFields !== (m[3] !== undefined)) throw new ParseError("Bad header field list");
  const fields = wantsFields
    ? m[3]!
        .trim()
        .split(/\s+/)
        .map((f) => f.replace(/^"(.*)"$/, "$1"))
        .filter((f) => f.length > 0)
    : [];
  if (wantsFields && (fields.length === 0 || fields.some((f) => !/^[!-9;-~]+$/.test(f)))) throw new ParseError("Bad header field name");
  return { path, spec, fields };
}

/** The section as it is echoed in the response: "1.HEADER.FIELDS (SUBJECT)". */
export function sectionLabel(sec: Section): string {
  let out = sec.path.join(".");
  if (sec.spec) out += (out ? "." : "") + sec.spec;
  if (sec.fields.length) out += ` (${sec.fields.map((f) => f.toUpperCase()).join(" ")})`;
  return out;
}

function isMessage(p: MimePart): boolean {
  return p.type === "message" && !!p.message;
}

/** RFC 9051 §6.4.5 part numbering: multipart children by position; a non-multipart body is
 *  its own part 1; below a message/rfc822 part the numbers address the encapsulated body. */
export function findPart(root: MimePart, path: number[]): MimePart | null {
  let cur = root;
  for (let i = 0; i < path.length; i++) {
    const n = path[i]!;
    const container = i > 0 && isMessage(cur) ? cur.message!.body : cur;
    if (container.parts && container.parts.length > 0) {
      const next = container.parts[n - 1];
      if (!next) return null;
      cur = next;
    } else if (n === 1 && (i === 0 || container !== cur)) cur = container;
    else return null;
  }
  return cur;
}

/** Byte range [start, end) of a section, a filter for HEADER.FIELDS, or null when absent. */
export function sectionRange(root: MimePart, total: number, sec: Section): { start: number; end: number; header: boolean } | null {
  if (sec.path.length === 0) {
    switch (sec.spec) {
      case "":
        return { start: 0, end: total, header: false };
      case "TEXT":
        return { start: root.bodyStart, end: Math.max(root.bodyStart, Math.min(total, root.end || total)), header: false };
      case "MIME":
        return null;
      default:
        return { start: root.headerStart, end: root.bodyStart, header: true };
    }
  }
  const p = findPart(root, sec.path);
  if (!p) return null;
  switch (sec.spec) {
    case "":
      return { start: p.bodyStart, end: p.end, header: false };
    case "MIME":
      return { start: p.headerStart, end: p.bodyStart, header: true };
    default: {
      if (!isMessage(p)) return null;
      const m = p.message!.body;
      if (sec.spec === "TEXT") return { start: m.bodyStart, end: m.end, header: false };
      return { start: m.headerStart, end: m.bodyStart, header: true };
    }
  }
}

/** Header fields in wire form (with folded lines), for HEADER.FIELDS(.NOT). */
export function filterHeader(header: Uint8Array, fields: string[], not: boolean): Uint8Array {
  const want = new Set(fields.map((f) => f.toLowerCase()));
  const text = Buffer.from(header).toString("latin1");
  const lines = text.split(/(?<=\n)/);
  let out = "";
  let keep = false;
  for (const line of lines) {
    if (line === "\r\n" || line === "\n") break;
    if (line[0] === " " || line[0] === "\t") {
      if (keep) out += line;
      continue;
    }
    const colon = line.indexOf(":");
    const name = colon > 0 ? line.slice(0, colon).trim().toLowerCase() : "";
    keep = name !== "" && want.has(name) !== not;
    if (keep) out += line;
  }
  return Buffer.from(out + "\r\n", "latin1");
}

/** The bytes of a section, or null (NIL) when the part does not exist. */
export function sectionBytes(root: MimePart, msg: Uint8Array, sec: Section): Uint8Array | null {
  const r = sectionRange(root, msg.length, sec);
  if (!r) return null;
  const start = Math.min(r.start, msg.length);
  const end = Math.max(start, Math.min(r.end, msg.length));
  const raw = msg.subarray(start, end);
  if (sec.spec === "HEADER.FIELDS") return filterHeader(raw, sec.fields, false);
  if (sec.spec === "HEADER.FIELDS.NOT") return filterHeader(raw, sec.fields, true);
  return raw;
}

/** BINARY[section] (RFC 3516 §4.2): the part's body with its transfer encoding removed;
 *  "unknown" when the encoding is not one we can undo. */
export function binaryBytes(root: MimePart, msg: Uint8Array, sec: Section): Uint8Array | null | "unknown" {
  if (sec.spec !== "") return sectionBytes(root, msg, sec);
  if (sec.path.length === 0) return sectionBytes(root, msg, sec);
  const p = findPart(root, sec.path);
  if (!p) return null;
  if (p.parts && p.parts.length) return sectionBytes(root, msg, sec);
  return decodePartBody(p, msg);
}

/** A leaf part's body with its Content-Transfer-Encoding undone, or "unknown". */
export function decodePartBody(p: MimePart, msg: Uint8Array): Uint8Array | "unknown" {
  const body = msg.subarray(Math.min(p.bodyStart, msg.length), Math.min(p.end, msg.length));
  switch (p.encoding.toUpperCase()) {
    case "7BIT":
    case "8BIT":
    case "BINARY":
    case "":
      return body;
    case "BASE64":
      return Buffer.from(
        Buffer.from(body)
          .toString("latin1")
          .replace(/[^A-Za-z0-9+/=]/g, ""),
        "base64",
      );
    case "QUOTED-PRINTABLE":
      return decodeQP(body);
    default:
      return "unknown";
  }
}
