// The domains a message names: the envelope sender's and From:'s, and the hosts of the
// links in its text parts (decoded; HTML attributes included), for domain block lists.
import { decodeCharset, decodeTransfer, parseStructure, type MimePart } from "../../core/mime/index.ts";

const URL_HOST = /\b(?:https?|ftp):\/\/([a-z0-9][a-z0-9.-]*[a-z0-9])/gi;
const MAX_TEXT = 64 * 1024;

function textParts(p: MimePart, out: MimePart[], depth = 0): void {
  if (depth > 20 || out.length > 20) return;
  if (p.parts) for (const c of p.parts) textParts(c, out, depth + 1);
  else if (p.type === "text" && (p.subtype === "plain" || p.subtype === "html")) out.push(p);
}

/** Lower-case domain names, senders first, deduplicated, at most `max`. IP literals and
 *  single labels are skipped (domain lists list names). */
export function messageDomains(raw: Uint8Array, senders: string[], max: number): string[] {
  const out = new Set<string>();
  const add = (d: string) => {
    const name = d.toLowerCase().replace(/\.$/, "");
    if (out.size >= max || !name.includes(".") || /^[\d.]+$/.test(name)) return;
    out.add(name);
    // Lists name the registered domain; without the public suffix list, its last two labels.
    const labels = name.split(".");
    if (labels.length > 2 && out.size < max) out.add(labels.slice(-2).join("."));
  };
  for (const s of senders) add(s);
  const parts: MimePart[] = [];
  textParts(parseStructure(raw), parts);
  for (const p of parts) {
    const text = decodeCharset(decodeTransfer(raw.subarray(p.bodyStart, Math.min(p.end, p.bodyStart + MAX_TEXT)), p.encoding), p.params.charset);
    for (const m of text.matchAll(URL_HOST)) add(m[1]!);
  }
  return [...out];
}
