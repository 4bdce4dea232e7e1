// RFC 9051 §6.3.12 APPEND with APPENDUID (UIDPLUS, RFC 4315 §3), APPENDLIMIT (RFC 7889,
// enforced by the reader before the literal is read), literal8 (BINARY, RFC 3516), UTF8
// (RFC 6855 §4), MULTIAPPEND (RFC 3502: several messages, all stored or none) and CATENATE
// (RFC 4469: a message put together from TEXT literals and URLs of messages we hold).
import type { AppendOptions } from "../../../core/store/types.ts";
import { AUTHED, no, ok, type CommandSpec, type Result } from "../command.ts";
import { parseFlags } from "../flags.ts";
import { formatSetInOrder, parseDateTime } from "../format.ts";
import { fetchImapUrl, parseImapUrl } from "../imapurl.ts";
import { canonicalName, fromWire } from "../names.ts";
import { ParseError, type Args } from "../parser.ts";
import type { Session } from "../session.ts";

/** One message of an APPEND (or REPLACE) as given: its options and data, with CATENATE
 *  parts still to be resolved. */
export interface AppendMessage {
  flags: string[];
  internalDate?: number;
  parts: ({ text: Uint8Array } | { url: string })[];
}

/** append-opts SP append-data (RFC 3502 §6, RFC 4469 §5). */
/** RFC 9051 §4.3: a literal is CHAR8 (no NUL); only literal8 (BINARY, RFC 3516) may carry it. */
function checkedText(lit: { data: Uint8Array; binary: boolean }): Uint8Array {
  if (!lit.binary && Buffer.from(lit.data.buffer, lit.data.byteOffset, lit.data.byteLength).indexOf(0) >= 0) throw new ParseError("NUL is not allowed in a literal (use literal8)");
  return lit.data;
}

export function parseAppendMessage(a: Args): AppendMessage {
  const flags = a.isList() ? parseFlags(a.list()) : [];
  let internalDate: number | undefined;
  if (a.peek()?.t === "quoted") {
    const d = parseDateTime((a.token() as { v: string }).v);
    if (d === null) throw new ParseError("Invalid date-time");
    internalDate = d;
  }
  const parts: AppendMessage["parts"] = [];
  if (a.accept("UTF8")) {
    const l = a.list();
    parts.push({ text: checkedText(l.literal()) });
    l.end();
  } else if (a.accept("CATENATE")) {
    const l = a.list();
    while (!l.done()) {
      const kind = l.atom().toUpperCase();
      if (kind === "TEXT") parts.push({ text: checkedText(l.literal()) });
      else if (kind === "URL") parts.push({ url: l.astring() });
      else throw new ParseError(`Unknown CATENATE part ${kind}`);
    }
    if (parts.length === 0) throw new ParseError("Empty CATENATE");
  } else parts.push({ text: checkedText(a.literal()) });
  return { flags, internalDate, parts };
}

/** The message bytes, or a NO result (BADURL, TOOBIG). */
export async function buildMessage(s: Session, m: AppendMessage): Promise<Uint8Array | Result> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (const p of m.parts) {
    let data: Uint8Array | null;
    if ("text" in p) data = p.text;
    else {
      const u = parseImapUrl(p.url);
      // Our own mailboxes only (another user's would need URLAUTH, RFC 4469 §3).
      const own = u && (u.user === null || u.user.toLowerCase() === s.user!.address.toLowerCase());
      data = u && own ? await fetchImapUrl(s, u) : null;
      // RFC 4469 §5: BADURL names the URL that failed.
      if (!data) return no("URL does not name a message or part", `BADURL ${p.url.replace(/[\]\r\n]/g, "")}`);
    }
    size += data.length;
    if (size > s.opts.appendLimit) return no("Message too large", "TOOBIG");
    chunks.push(data);
  }
  if (size === 0) return no("Empty message");
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
}

export const append: CommandSpec = {
  name: "APPEND",
  states: AUTHED,
  async run(s, c) {
    const a = c.args;
    const name = canonicalName(fromWire(s, a.astring()));
    const msgs: AppendMessage[] = [];
    do msgs.push(parseAppendMessage(a));
    while (!a.done());
    const mb = await s.core.store.getMailbox(s.accountId, name);
    if (!mb) return no("No such mailbox", "TRYCREATE");
    const items: { raw: Uint8Array; opts: AppendOptions }[] = [];
    for (const m of msgs) {
      const raw = await buildMessage(s, m);
      if (!(raw instanceof Uint8Array)) return raw;
      if (raw.length === 0) return no("Empty message");
      items.push({ raw, opts: { flags: m.flags, internalDate: m.internalDate, origin: s.conn.id } });
    }
    const res = items.length === 1 ? [await s.core.store.append(mb.id, items[0]!.raw, items[0]!.opts)] : await s.core.store.appendMany(mb.id, items);
    const sel = s.selected;
    if (sel?.id === mb.id) {
      // Told before the tagged OK (the change event may not have come yet).
      if (!sel.needFull) for (const r of res) sel.appended.push([r.uid, r.modseq]);
      sel.dirty = true;
    }
    return ok("APPEND completed", `APPENDUID ${res[0]!.uidvalidity} ${formatSetInOrder(res.map((r) => r.uid))}`);
  },
};
