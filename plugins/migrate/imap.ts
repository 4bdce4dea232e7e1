// `kotakpos migrate`: copy a whole account from another IMAP server (imapflow as the
// client). Folders with their hierarchy, special-use roles (RFC 6154) and subscriptions;
// messages by UID in chunks with flags, keywords and INTERNALDATE. What was copied is
// remembered per (folder, UIDVALIDITY, UID) with its Message-ID in the same transaction as
// the rows, so an interrupted or repeated run fetches only what is new. Virtual folders:
// \Flagged and \Important views (Gmail's Starred, Important) are not copied (the messages
// live in real folders, the flag comes along); \All (Gmail's All Mail) is copied last into
// Archive, without the messages already copied from another folder (by Message-ID).
import { isIP } from "node:net";
import { ImapFlow, type ListResponse } from "imapflow";
import type { Db } from "../../core/db/open.ts";
import type { Store } from "../../core/store/types.ts";
import { toCrlf } from "./message.ts";
import { copiedMessageIds, copiedUids, rememberCopied } from "./schema.ts";
import { JobError, type Counts, type Report, type SourceEvent, type SourceTotals } from "./types.ts";
import { runImport } from "./writer.ts";

export interface ImapUrl {
  secure: boolean;
  user: string;
  password?: string;
  host: string;
  port: number;
}

/** imaps://user@host[:port] or imap://… (the user may contain "@": the last one ends it). */
export function parseImapUrl(url: string): ImapUrl {
  const m = /^(imaps?):\/\/(.+)@([^@/:]+|\[[0-9a-f:.]+\])(?::(\d{1,5}))?\/?$/i.exec(url.trim());
  if (!m) throw new JobError(`not an IMAP URL: ${url} (imaps://user@host[:port] or imap://user@host[:port])`);
  const secure = m[1]!.toLowerCase() === "imaps";
  let user = m[2]!;
  let password: string | undefined;
  const colon = user.indexOf(":");
  if (colon >= 0) {
    password = decodeURIComponent(user.slice(colon + 1));
    user = user.slice(0, colon);
  }
  const port = m[4] ? Number(m[4]) : secure ? 993 : 143;
  if (port < 1 || port > 65535) throw new JobError(`bad port in ${url}`);
  return { secure, user: decodeURIComponent(user), password, host: m[3]!.replace(/^\[|\]$/g, ""), port };
}

const VIRTUAL = new Set(["\\Flagged", "\\Important"]);
/** Per FETCH command at most this many messages and bytes (bounds memory: a 20 MB
 *  message travels nearly alone). */
const CHUNK = 100;
const CHUNK_BYTES = 32 * 1024 * 1024;

/** Splits UIDs into FETCH chunks by count and by their RFC822.SIZE. */
export function chunksOf(uids: number[], sizes: Map<number, number>): number[][] {
  const out: number[][] = [];
  let cur: number[] = [];
  let bytes = 0;
  for (const uid of uids) {
    const sz = sizes.get(uid) ?? 0;
    if (cur.length && (cur.length >= CHUNK || bytes + sz > CHUNK_BYTES)) {
      out.push(cur);
      cur = [];
      bytes = 0;
    }
    cur.push(uid);
    bytes += sz;
  }
  if (cur.length) out.push(cur);
  return out;
}

function targetName(box: ListResponse): string {
  if (box.path.toUpperCase() === "INBOX") return "INBOX";
  if (box.specialUse === "\\All") return "Archive";
  const d = box.delimiter;
  const parts = d ? box.path.split(d) : [box.path];
  return parts.map((p) => p.replace(/\//g, "_")).join("/");
}

export interface MigrateOptions {
  url: string;
  password: string;
  insecure?: boolean;
  accountId: number;
  store: Store;
  db: Db;
  onProgress(c: Counts): void;
  onTotals(t: SourceTotals): void;
  signal: AbortSignal;
}

export async function migrateFromImap(o: MigrateOptions): Promise<Report> {
  const u = parseImapUrl(o.url);
  const source = `${u.user}@${u.host}:${u.port}`;
  const client = new ImapFlow({
    host: u.host,
    port: u.port,
    secure: u.secure,
    // imap://: imapflow upgrades with STARTTLS when the server offers it (doSTARTTLS unset).
    auth: { user: u.user, pass: o.password || u.password || "" },
    tls: { rejectUnauthorized: !o.insecure },
    logger: false,
    disableAutoIdle: true,
    emitLogs: false,
  });
  client.on("error", () => {});
  // imapflow passes `servername: false` for an IP host, which Bun's tls refuses; undefined
  // means no SNI and the certificate checked against the IP, as intended.
  if (isIP(u.host)) (client as unknown as { servername?: string }).servername = undefined;
  try {
    await client.connect();
  } catch (e) {
    const err = e as Error & { authenticationFailed?: boolean; responseText?: string; code?: string };
    if (err.authenticationFailed) throw new JobError(`${u.host}: login refused for ${u.user}${err.responseText ? ` (${err.responseText})` : ""}`);
    if (/certificate|self[- ]signed|CERT/i.test(err.message + (err.code ?? ""))) throw new JobError(`${u.host}: the certificate does not verify (${err.message}); --insecure accepts it`);
    throw new JobError(`${u.host}:${u.port}: ${err.message}`);
  }
  try {
    return await runImport(events(client, o, source), {
      store: o.store,
      accountId: o.accountId,
      onProgress: o.onProgress,
      signal: o.signal,
      remember: (tx, keys) => rememberCopied(tx, o.accountId, source, keys),
    });
  } finally {
    await client.logout().catch(() => client.close());
  }
}

async function* events(client: ImapFlow, o: MigrateOptions, source: string): AsyncGenerator<SourceEvent> {
  const list = await client.list({ statusQuery: { messages: true } });
  const boxes = list.filter((b) => !b.flags.has("\\Noselect") && !b.flags.has("\\NonExistent") && !VIRTUAL.has(b.specialUse ?? ""));
  // Real folders first, the \All view last (it dedups against them).
  boxes.sort((a, b) => Number(a.specialUse === "\\All") - Number(b.specialUse === "\\All"));
  o.onTotals({ messages: boxes.reduce((n, b) => n + (b.status?.messages ?? 0), 0) });
  for (const b of list) if (b.flags.has("\\Noselect") && !b.flags.has("\\NonExistent")) yield { kind: "folder", folder: { name: targetName(b), subscribed: Boolean(b.subscribed) } };
  for (const box of boxes) {
    if (o.signal.aborted) return;
    const name = targetName(box);
    const isAll = box.specialUse === "\\All";
    yield { kind: "folder", folder: { name, specialUse: box.specialUse && box.specialUse !== "\\Inbox" ? box.specialUse : null, subscribed: Boolean(box.subscribed) } };
    const mb = await client.mailboxOpen(box.path, { readOnly: true });
    const uidvalidity = Number(mb.uidValidity);
    // Every UID with its size (RFC 9051 §6.4.5 FETCH RFC822.SIZE), to plan the chunks.
    const sizes = new Map<number, number>();
    if (mb.exists > 0) for await (const m of client.fetch("1:*", { uid: true, size: true })) sizes.set(m.uid, m.size ?? 0);
    const uids = [...sizes.keys()].sort((a, b) => a - b);
    const done = await copiedUids(o.db, o.accountId, source, box.path, uidvalidity);
    // A new UIDVALIDITY (or the \All view): what was copied is known by Message-ID.
    const knownIds = isAll ? await copiedMessageIds(o.db, o.accountId, source) : done.size === 0 ? await copiedMessageIds(o.db, o.accountId, source, box.path) : new Set<string>();
    const todo = uids.filter((x) => !done.has(x));
    if (uids.length - todo.length) yield { kind: "existing", count: uids.length - todo.length, bytes: uids.reduce((n, x) => n + (done.has(x) ? (sizes.get(x) ?? 0) : 0), 0) };
    for (let chunk of chunksOf(todo, sizes)) {
      if (o.signal.aborted) return;
      const got = new Set<number>();
      if (knownIds.size) {
        // Envelopes first: a message copied before under another UID is not fetched whole.
        const known: { folder: string; uidvalidity: number; uid: number; messageId: string }[] = [];
        for await (const m of client.fetch(chunk.join(","), { uid: true, envelope: true, size: true }, { uid: true })) {
          const id = m.envelope?.messageId ?? "";
          if (id && knownIds.has(id) && chunk.includes(m.uid)) known.push({ folder: box.path, uidvalidity, uid: m.uid, messageId: id });
        }
        if (known.length) {
          await o.db.write((tx) => rememberCopied(tx, o.accountId, source, known));
          yield { kind: "existing", count: known.length };
          const skip = new Set(known.map((k) => k.uid));
          chunk = chunk.filter((x) => !skip.has(x));
          if (!chunk.length) continue;
        }
      }
      for await (const m of client.fetch(chunk.join(","), { uid: true, flags: true, internalDate: true, envelope: true, source: true }, { uid: true })) {
        if (!chunk.includes(m.uid)) continue;
        got.add(m.uid);
        const where = `${box.path} UID ${m.uid}`;
        const messageId = m.envelope?.messageId ?? "";
        const key = { folder: box.path, uidvalidity, uid: m.uid, messageId };
        if (!m.source || !m.source.length) {
          yield { kind: "skip", where, reason: "the server sent no message body" };
          continue;
        }
        const flags = [...(m.flags ?? [])].filter((f) => f !== "\\Recent");
        const date = m.internalDate instanceof Date ? m.internalDate.getTime() : m.internalDate ? Date.parse(String(m.internalDate)) : undefined;
        yield { kind: "message", msg: { folders: [name], raw: toCrlf(new Uint8Array(m.source)), flags, internalDate: date, where, key } };
      }
      // Expunged on the source between SEARCH and FETCH: nothing to copy.
      for (const x of chunk) if (!got.has(x)) yield { kind: "skip", where: `${box.path} UID ${x}`, reason: "expunged on the source during the run" };
    }
  }
}
