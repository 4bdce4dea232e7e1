// Message → the set of tokens the classifier weighs (after SpamBayes's tokenizer, kept
// small): header names, words of the headers that carry meaning, decoded text of the
// text/plain and text/html parts (HTML stripped), URLs as their domains, attachment types.
import { decodeTransfer, decodeWords, htmlToText, parseFields, parseStructure, splitHeader, decodeCharset, type MimePart } from "../../core/mime/index.ts";

/** Text decoded per part at most: spam that matters shows itself early. */
const MAX_PART_BYTES = 32 * 1024;
const MAX_TOKENS = 5000;
const MAX_PARTS = 50;

/** Headers that say where the message went here, not what it is (and our own verdicts:
 *  training on them would feed the classifier its own output). */
const SKIP_HEADERS = new Set([
  "received",
  "authentication-results",
  "delivered-to",
  "x-spam-score",
  "x-spam-status",
  "x-spam-flag",
  "x-spam-level",
  "x-spam-checker-version",
  "x-kotakpos-junk",
  "return-path",
  "status",
  "x-status",
  "x-keywords",
  "x-uid",
  "x-rspamd-score",
  "x-rspamd-action",
]);
/** Headers whose words are tokens, prefixed with the header name. */
const WORD_HEADERS = new Set(["subject", "from", "reply-to", "to", "cc", "content-type", "x-mailer", "user-agent", "list-id", "organization", "sender", "errors-to", "precedence", "mime-version"]);

const URL_RE = /\b(?:https?|ftp):\/\/([a-z0-9.-]+)(?::\d+)?([^\s"'<>]*)/gi;
const SPLIT_RE = /[\s.,;:!?()[\]{}<>"'`|*=+~^]+/;
const DIGITS = /^\d+$/;

/** The domain and every parent domain up to the registrable-looking last two labels. */
function domainTokens(prefix: string, host: string, out: Set<string>): void {
  const labels = host.toLowerCase().replace(/\.$/, "").split(".").filter(Boolean);
  if (labels.length === 0) return;
  if (labels.every((l) => /^\d+$/.test(l))) {
    out.add(`${prefix}:ip`);
    return;
  }
  for (let i = 0; i <= labels.length - 2; i++) out.add(`${prefix}:${labels.slice(i).join(".")}`);
  if (labels.length === 1) out.add(`${prefix}:${labels[0]}`);
}

/** Characters trimmed off a word's ends, as a table by char code (ASCII only). */
const TRIM = new Uint8Array(128);
for (const c of "-_#/\\@$%&") TRIM[c.charCodeAt(0)] = 1;

/** What a raw word came to in `words`: too short or too long (its token added), or the word. */
const SHORT = 0;
const LONG = 1;

/** Word tokens (lower-cased, 3–12 characters; longer ones by shape, numbers by length). */
function words(prefix: string, text: string, out: Set<string>, pairs = false): void {
  let prev = "";
  // A word seen before in this text already has its token in `out`: only its pair is new.
  const seen = new Map<string, string | typeof SHORT | typeof LONG>();
  for (const raw of text.toLowerCase().split(SPLIT_RE)) {
    if (out.size >= MAX_TOKENS) return;
    let w = seen.get(raw);
    if (w === undefined) {
      w = word(prefix, raw, out);
      seen.set(raw, w);
    }
    if (w === SHORT || w === LONG) continue;
    // Word pairs (as mox does): "click here" says more than "click" and "here".
    if (pairs && prev) out.add(`${prev} ${w}`);
    prev = w;
  }
}

/** One raw word's token (added to `out`); what it came to. */
function word(prefix: string, raw: string, out: Set<string>): string | typeof SHORT | typeof LONG {
  let a = 0;
  let b = raw.length;
  while (a < b && TRIM[raw.charCodeAt(a)] === 1) a++;
  while (b > a && TRIM[raw.charCodeAt(b - 1)] === 1) b--;
  if (b - a < 3) return SHORT;
  let w = a === 0 && b === raw.length ? raw : raw.slice(a, b);
  if (w.length > 12) {
    // SpamBayes: long words are mostly noise; keep their shape only.
    out.add(`${prefix}skip:${w[0]} ${Math.floor(w.length / 10) * 10}`);
    return LONG;
  }
  const c0 = w.charCodeAt(0);
  if (c0 >= 48 && c0 <= 57 && DIGITS.test(w)) w = `#${w.length}`; // numbers: their length only
  out.add(prefix + w);
  return w;
}

function urls(text: string, out: Set<string>): string {
  return text.replace(URL_RE, (_m, host: string, path: string) => {
    domainTokens("url", host, out);
    if (path.length > 1) out.add(`urlpath:${Math.min(Math.floor(path.length / 20), 5)}`);
    if (/%[0-9a-f]{2}/i.test(path)) out.add("url:escaped");
    return " ";
  });
}

function addresses(name: string, value: string, out: Set<string>): void {
  for (const m of value.matchAll(/[^\s<>,;"]+@([a-z0-9.-]+)/gi)) {
    out.add(`${name}:addr:${m[0].toLowerCase()}`);
    domainTokens(`${name}:domain`, m[1]!, out);
  }
}

function headerTokens(bytes: Uint8Array, start: number, end: number, out: Set<string>): void {
  const fields = parseFields(bytes, start, end);
  const to = fields.filter((f) => f.name === "to" || f.name === "cc").reduce((n, f) => n + (f.value.match(/@/g)?.length ?? 0), 0);
  out.add(`to:count:${Math.min(to, 5)}`);
  for (const f of fields) {
    if (SKIP_HEADERS.has(f.name)) continue;
    out.add(`hdr:${f.name}`);
    if (f.name === "message-id") {
      const d = /@([^>\s]+)/.exec(f.value);
      out.add(d ? `msgid:${d[1]!.toLowerCase()}` : "msgid:none");
      continue;
    }
    if (!WORD_HEADERS.has(f.name)) continue;
    const value = decodeWords(f.value);
    if (f.name === "from" || f.name === "reply-to" || f.name === "sender" || f.name === "to" || f.name === "cc" || f.name === "errors-to") addresses(f.name, value, out);
    if (f.name === "to" || f.name === "cc") continue; // the recipient's own name says nothing
    words(`${f.name}:`, urls(value, out), out);
  }
}

function walk(bytes: Uint8Array, p: MimePart, out: Set<string>, budget: { parts: number }): void {
  if (--budget.parts < 0) return;
  if (p.parts) {
    out.add(`ct:${p.type}/${p.subtype}`);
    for (const c of p.parts) walk(bytes, c, out, budget);
    return;
  }
  if (p.message) {
    out.add("ct:message/rfc822");
    return;
  }
  const attachment = p.disposition?.type === "attachment";
  if (p.type !== "text" || attachment || (p.subtype !== "plain" && p.subtype !== "html")) {
    out.add(`attach:${p.type}/${p.subtype}`);
    const name = p.disposition?.params.filename ?? p.params.name;
    const ext = name ? /\.([a-z0-9]{1,6})$/i.exec(name)?.[1] : undefined;
    if (ext) out.add(`attach:ext:${ext.toLowerCase()}`);
    return;
  }
  out.add(`ct:text/${p.subtype}`);
  if (p.params.charset) out.add(`charset:${p.params.charset.toLowerCase()}`);
  out.add(`cte:${p.encoding.toLowerCase()}`);
  const end = Math.min(p.end, p.bodyStart + MAX_PART_BYTES);
  let text = decodeCharset(decodeTransfer(bytes.subarray(p.bodyStart, end), p.encoding), p.params.charset);
  if (p.subtype === "html") {
    // URLs inside attributes count too (href, src): take them before the tags go.
    text = urls(text, out);
    if (/<img\b/i.test(text)) out.add("html:img");
    if (/<font\b/i.test(text)) out.add("html:font");
    if (/<table\b/i.test(text)) out.add("html:table");
    text = htmlToText(text);
  }
  words("", urls(text, out), out, true);
}

/** The message's tokens (a set: each counts once per message, as in SpamBayes). At
 *  delivery the structure parsed for the store is passed in (IncomingMessage.structure). */
export function tokenize(raw: Uint8Array, structure: MimePart = parseStructure(raw)): Set<string> {
  const out = new Set<string>();
  const { headerEnd } = splitHeader(raw, 0, raw.length);
  headerTokens(raw, 0, headerEnd, out);
  walk(raw, structure, out, { parts: MAX_PARTS });
  return out;
}
