// Byte-offset MIME structure (RFC 2045, RFC 2046, RFC 5322): header/body split,
// multipart boundaries (RFC 2046 §5.1.1), nested multiparts, message/rfc822
// encapsulation (RFC 2046 §5.2.1), defaults per RFC 2045 §5.2. Tolerant of broken input:
// missing final boundary, missing blank line, bare LF; depth and part count are bounded.
import type { MimePart } from "./types.ts";
import { getField, parseFields, splitHeader, type HeaderField } from "./header.ts";
import { parseValueWithParams, stripComments } from "./params.ts";
import { envelopeFromFields } from "./envelope.ts";

export const MAX_DEPTH = 32;
export const MAX_PARTS = 5000;

interface Ctx {
  bytes: Uint8Array;
  offset: number;
  parts: number;
}

/** Parses the message in `bytes`; every offset in the result has `offset` added. */
export function parseStructure(bytes: Uint8Array, offset = 0): MimePart {
  return parsePart({ bytes, offset, parts: 0 }, 0, bytes.length, 0, false);
}

/** The structure with every byte offset moved by `delta` (more header lines before the
 *  message: a per-copy prefix); the top part's headerStart stays 0, as analyze() sets it. */
export function shiftStructure(part: MimePart, delta: number, top = true): MimePart {
  return {
    ...part,
    headerStart: top ? part.headerStart : part.headerStart + delta,
    bodyStart: part.bodyStart + delta,
    end: part.end + delta,
    ...(part.parts && { parts: part.parts.map((p) => shiftStructure(p, delta, false)) }),
    ...(part.message && { message: { ...part.message, body: shiftStructure(part.message.body, delta, false) } }),
  };
}

/** Counts lines in [start, end): a last line without a line break counts too. */
export function countLines(bytes: Uint8Array, start: number, end: number): number {
  if (end <= start) return 0;
  let n = 0;
  let p = start;
  for (;;) {
    const nl = bytes.indexOf(10, p);
    if (nl < 0 || nl >= end) break;
    n++;
    p = nl + 1;
  }
  return p < end ? n + 1 : n;
}

function parsePart(ctx: Ctx, start: number, end: number, depth: number, inDigest: boolean): MimePart {
  ctx.parts++;
  const { bytes, offset } = ctx;
  const { headerEnd, bodyStart } = splitHeader(bytes, start, end);
  const fields = parseFields(bytes, start, headerEnd);
  const part = describe(fields, inDigest);
  part.headerStart = start + offset;
  part.bodyStart = bodyStart + offset;
  part.end = end + offset;

  const deep = depth >= MAX_DEPTH || ctx.parts >= MAX_PARTS;
  if (part.type === "multipart") {
    const boundary = part.params.boundary;
    if (!boundary) {
      // No boundary: not a usable multipart; RFC 2045 §5.2 default applies.
      Object.assign(part, { type: "text", subtype: "plain", params: { charset: "us-ascii" } });
    } else if (!deep) {
      part.parts = splitMultipart(ctx, bodyStart, end, boundary, depth, part.subtype === "digest");
      part.lines = countLines(bytes, bodyStart, end);
      return part;
    } else {
      part.parts = [];
    }
  }
  part.lines = countLines(bytes, bodyStart, end);
  if (part.type === "message" && (part.subtype === "rfc822" || part.subtype === "global") && !deep) {
    // Encoded message/rfc822 is invalid (RFC 2046 §5.2.1); only identity encodings nest.
    const enc = part.encoding.toLowerCase();
    if (enc === "7bit" || enc === "8bit" || enc === "binary") {
      const body = parsePart(ctx, bodyStart, end, depth + 1, false);
      const { headerEnd: innerHeaderEnd } = splitHeader(bytes, bodyStart, end);
      part.message = { envelope: envelopeFromFields(parseFields(bytes, bodyStart, innerHeaderEnd)), body };
    }
  }
  return part;
}

/** Finds the delimiter lines "--boundary" (RFC 2046 §5.1.1) in [start, end) and parses each
 *  body part. The line break before a delimiter belongs to the delimiter. */
function splitMultipart(ctx: Ctx, start: number, end: number, boundary: string, depth: number, digest: boolean): MimePart[] {
  const { bytes } = ctx;
  const delim = new TextEncoder().encode("--" + boundary);
  const parts: MimePart[] = [];
  let partStart = -1;
  let pos = start;
  let closed = false;
  while (pos < end) {
    let lineEnd = bytes.indexOf(10, pos);
    if (lineEnd < 0 || lineEnd >= end) lineEnd = end;
    const kind = delimiterKind(bytes, pos, lineEnd, delim);
    if (kind) {
      if (partStart >= 0) {
        let pEnd = pos;
        if (pEnd > partStart && bytes[pEnd - 1] === 10) pEnd--;
        if (pEnd > partStart && bytes[pEnd - 1] === 13) pEnd--;
        parts.push(sub(ctx, partStart, Math.max(partStart, pEnd), depth, digest));
      }
      if (kind === "close") {
        closed = true;
        break;
      }
      partStart = Math.min(lineEnd + 1, end);
    }
    pos = lineEnd + 1;
  }
  // Missing close delimiter: the last part runs to the end.
  if (!closed && partStart >= 0) parts.push(sub(ctx, partStart, end, depth, digest));
  // No delimiter at all: the whole body as one part, so IMAP still has a part 1.
  if (parts.length === 0) parts.push(sub(ctx, start, end, depth, digest));
  return parts;
}

function sub(ctx: Ctx, s: number, e: number, depth: number, digest: boolean): MimePart {
  if (ctx.parts >= MAX_PARTS) {
    // Too many parts: the rest is opaque.
    const p = describe([], false);
    Object.assign(p, { headerStart: s + ctx.offset, bodyStart: s + ctx.offset, end: e + ctx.offset, lines: countLines(ctx.bytes, s, e) });
    return p;
  }
  return parsePart(ctx, s, e, depth + 1, digest);
}

function delimiterKind(bytes: Uint8Array, pos: number, lineEnd: number, delim: Uint8Array): "open" | "close" | null {
  if (lineEnd - pos < delim.length) return null;
  for (let i = 0; i < delim.length; i++) if (bytes[pos + i] !== delim[i]) return null;
  let p = pos + delim.length;
  let close = false;
  if (p + 1 < lineEnd + 1 && bytes[p] === 45 && bytes[p + 1] === 45) {
    close = true;
    p += 2;
  }
  // transport padding (RFC 2046 §5.1.1): only whitespace may follow
  for (; p < lineEnd; p++) {
    const b = bytes[p]!;
    if (b !== 32 && b !== 9 && b !== 13) return null;
  }
  return close ? "close" : "open";
}

/** The MIME fields of one part (offsets filled by the caller). */
function describe(fields: HeaderField[], inDigest: boolean): MimePart {
  let type = inDigest ? "message" : "text";
  let subtype = inDigest ? "rfc822" : "plain";
  let params: Record<string, string> = inDigest ? {} : { charset: "us-ascii" };
  const ct = getField(fields, "content-type");
  if (ct !== null) {
    const v = parseValueWithParams(ct);
    const m = /^([!#$%&'*+\-.^_`|~0-9a-z]+)\/([!#$%&'*+\-.^_`|~0-9a-z]+)$/.exec(v.value);
    if (m) {
      type = m[1]!;
      subtype = m[2]!;
      params = v.params;
    }
  }
  const cte = getField(fields, "content-transfer-encoding");
  const encoding = cte ? stripComments(cte).trim().toUpperCase() || "7BIT" : "7BIT";
  const cd = getField(fields, "content-disposition");
  let disposition: MimePart["disposition"] = null;
  if (cd !== null) {
    const v = parseValueWithParams(cd);
    if (v.value) disposition = { type: v.value, params: v.params };
  }
  const lang = getField(fields, "content-language");
  const language = lang
    ? stripComments(lang)
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean)
    : null;
  const loc = getField(fields, "content-location");
  return {
    type,
    subtype,
    params,
    id: getField(fields, "content-id"),
    description: getField(fields, "content-description"),
    encoding,
    md5: getField(fields, "content-md5"),
    disposition,
    language: language && language.length ? language : null,
    location: loc ? loc.replace(/\s+/g, "") : null,
    headerStart: 0,
    bodyStart: 0,
    end: 0,
    lines: 0,
  };
}
