// Email body parts (RFC 8621 §4.1.4): bodyStructure from the structure parsed at delivery,
// textBody / htmlBody / attachments by the RFC's algorithm, bodyValues with truncation.
import { decodeCharset, decodeTransfer, decodeWords, type MimePart } from "../../core/mime/index.ts";
import { rawFields, type RawField } from "./headers.ts";

export interface Part {
  partId: string | null;
  mime: MimePart;
  subParts: Part[] | null;
}

/** Numbers the leaf parts "1", "2" … in document order; multiparts have no id. */
export function numberParts(root: MimePart): { root: Part; byId: Map<string, Part> } {
  const byId = new Map<string, Part>();
  let n = 0;
  const walk = (m: MimePart, depth: number): Part => {
    if (m.type === "multipart" && m.parts && depth < 40) return { partId: null, mime: m, subParts: m.parts.map((c) => walk(c, depth + 1)) };
    const p: Part = { partId: String(++n), mime: m, subParts: null };
    byId.set(p.partId!, p);
    return p;
  };
  return { root: walk(root, 0), byId };
}

export const partBlobId = (emailBlob: string, partId: string) => `${emailBlob}_${partId}`;

/** Decoded content of a leaf part. */
export function partBytes(p: MimePart, bytes: Uint8Array): Uint8Array {
  return decodeTransfer(bytes.subarray(p.bodyStart, p.end), p.encoding);
}

function fileName(m: MimePart): string | null {
  const n = m.disposition?.params.filename ?? m.params.name;
  return n ? decodeWords(n) : null;
}

const isInline = (m: MimePart) => m.disposition?.type !== "attachment";
const mediaType = (m: MimePart) => `${m.type}/${m.subtype}`;

/** RFC 8621 §4.1.4 parseStructure, literally. */
export function bodyLists(root: Part): { text: Part[]; html: Part[]; attachments: Part[] } {
  const text: Part[] = [];
  const html: Part[] = [];
  const attachments: Part[] = [];
  const isInlineMedia = (p: Part) => ["image", "audio", "video"].includes(p.mime.type);
  const walk = (parts: Part[], multipartType: string, inAlternative: boolean, htmlBody: Part[] | null, textBody: Part[] | null) => {
    let textLength = textBody ? textBody.length : -1;
    let htmlLength = htmlBody ? htmlBody.length : -1;
    parts.forEach((part, i) => {
      const isMultipart = part.subParts !== null;
      const inline = isInline(part.mime) && (i === 0 || (multipartType !== "related" && (isInlineMedia(part) || !fileName(part.mime))));
      if (isMultipart) {
        const sub = part.mime.subtype;
        walk(part.subParts!, sub, inAlternative || sub === "alternative", htmlBody, textBody);
      } else if (inline) {
        const t = mediaType(part.mime);
        if (multipartType === "alternative") {
          if (t === "text/plain") textBody?.push(part);
          else if (t === "text/html") htmlBody?.push(part);
          else attachments.push(part);
          return;
        } else if (inAlternative) {
          if (t === "text/plain") htmlBody = null;
          if (t === "text/html") textBody = null;
        }
        if (textBody) textBody.push(part);
        if (htmlBody) htmlBody.push(part);
        if ((!textBody || !htmlBody) && isInlineMedia(part)) attachments.push(part);
      } else {
        attachments.push(part);
      }
    });
    if (multipartType === "alternative" && textBody && htmlBody) {
      if (textLength === textBody.length && htmlLength !== htmlBody.length) for (let i = htmlLength; i < htmlBody.length; i++) textBody.push(htmlBody[i]!);
      if (htmlLength === htmlBody.length && textLength !== textBody.length) for (let i = textLength; i < textBody.length; i++) htmlBody.push(textBody[i]!);
    }
    void textLength;
    void htmlLength;
  };
  walk([root], "mixed", false, html, text);
  // Only text/* parts (or inline media) belong in the body lists' body values.
  return { text, html, attachments };
}

export const BODY_PART_PROPS = ["partId", "blobId", "size", "headers", "name", "type", "charset", "disposition", "cid", "language", "location", "subParts"] as const;
export const DEFAULT_BODY_PROPS = ["partId", "blobId", "size", "name", "type", "charset", "disposition", "cid", "language", "location"];

/** One EmailBodyPart with the requested properties (header:* forms too). */
export function partJson(p: Part, bytes: Uint8Array, emailBlob: string, props: string[], headerProp: (fields: RawField[], prop: string) => unknown): Record<string, unknown> {
  const m = p.mime;
  const out: Record<string, unknown> = {};
  let fields: RawField[] | undefined;
  const hdrs = () => (fields ??= rawFields(bytes, m.headerStart, m.bodyStart));
  for (const prop of props) {
    switch (prop) {
      case "partId":
        out.partId = p.partId;
        break;
      case "blobId":
        out.blobId = p.partId ? partBlobId(emailBlob, p.partId) : null;
        break;
      case "size":
        out.size = p.partId ? partBytes(m, bytes).length : 0;
        break;
      case "headers":
        out.headers = hdrs().map((f) => ({ name: f.name, value: f.value }));
        break;
      case "name":
        out.name = fileName(m);
        break;
      case "type":
        out.type = mediaType(m);
        break;
      case "charset":
        out.charset = m.params.charset ?? (m.type === "text" ? "us-ascii" : null);
        break;
      case "disposition":
        out.disposition = m.disposition?.type ?? null;
        break;
      case "cid":
        out.cid = m.id ? m.id.replace(/^\s*<|>\s*$/g, "") : null;
        break;
      case "language":
        out.language = m.language;
        break;
      case "location":
        out.location = m.location;
        break;
      case "subParts":
        out.subParts = p.subParts ? p.subParts.map((s) => partJson(s, bytes, emailBlob, props, headerProp)) : null;
        break;
      default:
        out[prop] = headerProp(hdrs(), prop);
    }
  }
  return out;
}

/** EmailBodyValue (RFC 8621 §4.1.4): decoded text, truncated to maxBytes of UTF-8 on a
 *  character boundary. */
export function bodyValue(m: MimePart, bytes: Uint8Array, maxBytes: number): { value: string; isEncodingProblem: boolean; isTruncated: boolean } {
  const raw = partBytes(m, bytes);
  // "with any CRLF replaced with a single LF" (RFC 8621 §4.1.4).
  let value = decodeCharset(raw, m.params.charset).replace(/\r\n/g, "\n");
  const isEncodingProblem = value.includes("\uFFFD");
  let isTruncated = false;
  if (maxBytes > 0) {
    const enc = new TextEncoder().encode(value);
    if (enc.length > maxBytes) {
      let cut = maxBytes;
      while (cut > 0 && (enc[cut]! & 0xc0) === 0x80) cut--;
      value = new TextDecoder().decode(enc.subarray(0, cut));
      isTruncated = true;
    }
  }
  return { value, isEncodingProblem, isTruncated };
}
