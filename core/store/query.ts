// Email search conditions (RFC 8621 §4.4.1 FilterCondition, with AND/OR/NOT operators) as
// SQL over the message columns; body text and attachments, which are not columns, are
// evaluated on the rows (the stored bytes are read only for them).
import { decodeCharset, decodeTransfer, type MimePart } from "../mime/index.ts";
import type { StoreCtx } from "./ctx.ts";
import { ANSWERED, DELETED, DRAFT, FLAGGED, SEEN } from "./flags.ts";
import type { EmailCondition, EmailLeaf, MessageMeta } from "./types.ts";

/** JMAP keywords that are IMAP system flags (RFC 8621 §4.1.1). */
export const SYSTEM_KEYWORDS: Record<string, number> = { $seen: SEEN, $answered: ANSWERED, $flagged: FLAGGED, $draft: DRAFT, $deleted: DELETED };

const TEXT_COLS = ["from", "to", "cc", "bcc", "subject"] as const;
const COL: Record<(typeof TEXT_COLS)[number], string> = { from: "m.from_addr", to: "m.to_addr", cc: "m.cc_addr", bcc: "m.bcc_addr", subject: "m.subject" };

export function needsJs(c: EmailCondition): boolean {
  if ("operator" in c) return c.conditions.some(needsJs);
  return c.text !== undefined || c.body !== undefined || c.hasAttachment !== undefined;
}

/** LIKE pattern for a case-insensitive substring (ASCII case folding, as SQLite does). */
const like = (s: string) => "%" + s.replace(/[\\%_]/g, (m) => "\\" + m) + "%";

function keywordSql(k: string, has: boolean): { sql: string; args: unknown[] } {
  const bit = SYSTEM_KEYWORDS[k.toLowerCase()];
  if (bit !== undefined) return { sql: `(m.flags & ${bit}) ${has ? "<>" : "="} 0`, args: [] };
  return { sql: `${has ? "" : "NOT "}EXISTS (SELECT 1 FROM json_each(m.keywords) WHERE lower(value) = lower(?))`, args: [k] };
}

export function toSql(c: EmailCondition): { sql: string; args: unknown[] } {
  if ("operator" in c) {
    const parts = c.conditions.map(toSql);
    if (!parts.length) return { sql: c.operator === "OR" ? "0" : "1", args: [] };
    const args = parts.flatMap((p) => p.args);
    if (c.operator === "NOT") return { sql: `NOT (${parts.map((p) => p.sql).join(" OR ")})`, args };
    return { sql: parts.map((p) => `(${p.sql})`).join(` ${c.operator} `), args };
  }
  const w: string[] = [];
  const args: unknown[] = [];
  const add = (sql: string, ...a: unknown[]) => {
    w.push(sql);
    args.push(...a);
  };
  if (c.inMailbox !== undefined) add("m.mailbox_id = ?", c.inMailbox);
  if (c.inMailboxOtherThan) add("m.mailbox_id NOT IN (SELECT value FROM json_each(?))", JSON.stringify(c.inMailboxOtherThan));
  if (c.before !== undefined) add("m.internal_date < ?", c.before);
  if (c.after !== undefined) add("m.internal_date >= ?", c.after);
  if (c.minSize !== undefined) add("m.size >= ?", c.minSize);
  if (c.maxSize !== undefined) add("m.size < ?", c.maxSize);
  if (c.hasKeyword !== undefined) {
    const k = keywordSql(c.hasKeyword, true);
    add(k.sql, ...k.args);
  }
  if (c.notKeyword !== undefined) {
    const k = keywordSql(c.notKeyword, false);
    add(k.sql, ...k.args);
  }
  for (const f of TEXT_COLS) if (c[f] !== undefined) add(`${COL[f]} LIKE ? ESCAPE '\\'`, like(c[f]!));
  return { sql: w.length ? w.join(" AND ") : "1", args };
}

const has = (hay: string, needle: string) => hay.toLowerCase().includes(needle.toLowerCase());

function keywordIn(m: MessageMeta, k: string): boolean {
  const bit = SYSTEM_KEYWORDS[k.toLowerCase()];
  if (bit !== undefined) {
    const name = { [SEEN]: "\\Seen", [ANSWERED]: "\\Answered", [FLAGGED]: "\\Flagged", [DRAFT]: "\\Draft", [DELETED]: "\\Deleted" }[bit]!;
    return m.flags.includes(name);
  }
  return m.flags.some((f) => f.toLowerCase() === k.toLowerCase());
}

/** RFC 8621 §4.1.4: an attachment is a leaf part that is not the text or HTML body. */
export function hasAttachment(p: MimePart, depth = 0): boolean {
  if (depth > 40) return false;
  if (p.parts) return p.parts.some((c) => hasAttachment(c, depth + 1));
  if (p.disposition?.type === "attachment") return true;
  if (p.type === "text" && (p.subtype === "plain" || p.subtype === "html")) return false;
  return p.type !== "multipart";
}

/** Decoded text of every text/* leaf, for body / text conditions. */
export function bodyTexts(p: MimePart, bytes: Uint8Array, out: string[] = [], depth = 0): string[] {
  if (depth > 40) return out;
  if (p.parts) for (const c of p.parts) bodyTexts(c, bytes, out, depth + 1);
  else if (p.message) bodyTexts(p.message.body, bytes, out, depth + 1);
  else if (p.type === "text") out.push(decodeCharset(decodeTransfer(bytes.subarray(p.bodyStart, p.end), p.encoding), p.params.charset));
  return out;
}

export async function matchesInJs(ctx: StoreCtx, c: EmailCondition, m: MessageMeta, cache: { text?: string } = {}): Promise<boolean> {
  if ("operator" in c) {
    if (c.operator === "AND") {
      for (const x of c.conditions) if (!(await matchesInJs(ctx, x, m, cache))) return false;
      return true;
    }
    let any = false;
    for (const x of c.conditions) if (await matchesInJs(ctx, x, m, cache)) any = true;
    return c.operator === "OR" ? any : !any;
  }
  return leaf(ctx, c, m, cache);
}

async function leaf(ctx: StoreCtx, c: EmailLeaf, m: MessageMeta, cache: { text?: string }): Promise<boolean> {
  if (c.inMailbox !== undefined && m.mailboxId !== c.inMailbox) return false;
  if (c.inMailboxOtherThan && c.inMailboxOtherThan.includes(m.mailboxId)) return false;
  if (c.before !== undefined && !(m.internalDate < c.before)) return false;
  if (c.after !== undefined && !(m.internalDate >= c.after)) return false;
  if (c.minSize !== undefined && m.size < c.minSize) return false;
  if (c.maxSize !== undefined && m.size >= c.maxSize) return false;
  if (c.hasKeyword !== undefined && !keywordIn(m, c.hasKeyword)) return false;
  if (c.notKeyword !== undefined && keywordIn(m, c.notKeyword)) return false;
  for (const f of TEXT_COLS) if (c[f] !== undefined && !has(m[f], c[f]!)) return false;
  if (c.hasAttachment !== undefined && hasAttachment(m.structure) !== c.hasAttachment) return false;
  if (c.body !== undefined || c.text !== undefined) {
    if (cache.text === undefined) {
      const bytes = await readFull(ctx, m);
      cache.text = bytes ? bodyTexts(m.structure, bytes).join("\n") : "";
    }
    if (c.body !== undefined && !has(cache.text, c.body)) return false;
    if (c.text !== undefined && !TEXT_COLS.some((f) => has(m[f], c.text!)) && !has(cache.text, c.text)) return false;
  }
  return true;
}

/** Prefix + blob (a message expunged meanwhile reads as null: it simply does not match). */
async function readFull(ctx: StoreCtx, m: MessageMeta): Promise<Uint8Array | null> {
  try {
    const body = await ctx.blobs.get(m.blobId);
    if (!m.prefixSize) return body;
    const r = await ctx.db.query({ sql: "SELECT prefix FROM messages WHERE id = ?", args: [m.id] });
    if (!r.rows.length) return null;
    const p = new TextEncoder().encode(String(r.rows[0]!.prefix));
    const out = new Uint8Array(p.length + body.length);
    out.set(p);
    out.set(body, p.length);
    return out;
  } catch {
    return null;
  }
}
