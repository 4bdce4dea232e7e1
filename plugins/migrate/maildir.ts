// Maildir (cur/ new/ tmp/) with the ":2," flags of its file names, Maildir++ subfolders
// (".Sent", ".Work.Project", names in modified UTF-7 as Dovecot writes them), nested
// folders as mbsync's "SubFolders Verbatim" writes them, Dovecot's keyword file
// (dovecot-keywords: lower-case letters a-z in a file name map to keywords) and its
// subscriptions file.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { decodeMutf7 } from "../../core/store/mutf7.ts";
import { notAMessage, removeFields, toCrlf } from "./message.ts";

/** mbsync's own bookkeeping field in the Maildirs it writes (it removes it when it copies
 *  a message out again, and so do we). */
const MBSYNC_FIELDS = new Set(["x-tuid"]);
import type { SourceEvent, SourceTotals } from "./types.ts";

/** Maildir info flags (https://cr.yp.to/proto/maildir.html). */
const INFO_FLAGS: Record<string, string> = { D: "\\Draft", F: "\\Flagged", P: "$Forwarded", R: "\\Answered", S: "\\Seen", T: "\\Deleted" };

export const isMaildir = (dir: string | Buffer): boolean => existsSync(sub(dir, "cur")) || existsSync(sub(dir, "new"));

/** "Sent" → \Sent … for folders that carry no role of their own. */
const ROLE_BY_NAME: Record<string, string> = {
  sent: "\\Sent",
  "sent items": "\\Sent",
  "sent messages": "\\Sent",
  drafts: "\\Drafts",
  trash: "\\Trash",
  "deleted items": "\\Trash",
  "deleted messages": "\\Trash",
  junk: "\\Junk",
  spam: "\\Junk",
  archive: "\\Archive",
};
export const roleByName = (name: string): string | null => ROLE_BY_NAME[name.toLowerCase()] ?? null;

export function flagsOfName(file: string, keywords: string[]): string[] {
  const m = /[:!]2,([A-Za-z]*)$/.exec(file);
  if (!m) return [];
  const out: string[] = [];
  for (const c of m[1]!) {
    if (INFO_FLAGS[c]) out.push(INFO_FLAGS[c]!);
    else if (c >= "a" && c <= "z" && keywords[c.charCodeAt(0) - 97]) out.push(keywords[c.charCodeAt(0) - 97]!);
  }
  return out;
}

/** dovecot-keywords: "0 $Junk" lines; index 0 is letter a. */
function readKeywords(dir: FsPath): string[] {
  const f = sub(dir, "dovecot-keywords");
  const out: string[] = [];
  if (!existsSync(f)) return out;
  for (const line of readFileSync(f, "utf8").split("\n")) {
    const m = /^(\d+)\s+(\S+)/.exec(line);
    if (m && Number(m[1]) < 26) out[Number(m[1])] = m[2]!;
  }
  return out;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** A directory name from raw bytes: UTF-8, then modified UTF-7 when it looks like it;
 *  invalid bytes become U+FFFD and the caller notes it. */
function decodeName(bytes: Buffer): { name: string; valid: boolean } {
  let s: string;
  try {
    s = utf8.decode(bytes);
  } catch {
    return { name: new TextDecoder().decode(bytes), valid: false };
  }
  if (/&[A-Za-z0-9+,]*-/.test(s)) s = decodeMutf7(s) ?? s;
  return { name: s, valid: true };
}

/** A path that may hold bytes that are not UTF-8 (a Buffer then, which fs accepts). */
type FsPath = string | Buffer;

function sub(dir: FsPath, name: string | Buffer): FsPath {
  if (typeof dir === "string" && typeof name === "string") return join(dir, name);
  return Buffer.concat([Buffer.from(dir), Buffer.from("/"), Buffer.from(name)]);
}

interface Folder {
  dir: FsPath;
  name: string;
  note?: string;
}

/** Every folder of a Maildir tree, the root first (named `rootName`). */
export function maildirFolders(root: string, rootName: string): Folder[] {
  const out: Folder[] = [{ dir: root, name: rootName }];
  const walk = (dir: FsPath, prefix: string) => {
    for (const raw of readdirSync(dir, { encoding: "buffer" })) {
      const { name, valid } = decodeName(raw);
      if (["cur", "new", "tmp"].includes(name)) continue;
      const path = sub(dir, valid ? raw.toString("utf8") : raw);
      if (!statSync(path, { throwIfNoEntry: false })?.isDirectory()) continue;
      // Maildir++: ".A.B" is the folder A/B, beside the root.
      const parts = (name.startsWith(".") ? name.slice(1).split(".") : [name]).map((p) => p.replace(/\//g, "_")).filter((p) => p !== "");
      if (!parts.length) continue;
      const fname = (prefix ? prefix + "/" : "") + parts.join("/");
      if (isMaildir(path)) out.push({ dir: path, name: fname, note: valid ? undefined : `folder name is not valid UTF-8: imported as "${fname}"` });
      if (!name.startsWith(".")) walk(path, fname);
    }
  };
  walk(root, "");
  return out;
}

function messageFiles(dir: FsPath): { path: FsPath; file: string; isNew: boolean }[] {
  const out: { path: FsPath; file: string; isNew: boolean }[] = [];
  for (const s of ["new", "cur"]) {
    const d = sub(dir, s);
    if (!existsSync(d)) continue;
    for (const f of readdirSync(d).sort()) if (!f.startsWith(".")) out.push({ path: sub(d, f), file: f, isNew: s === "new" });
  }
  return out;
}

export function maildirTotals(root: string): SourceTotals {
  let messages = 0;
  let bytes = 0;
  for (const f of maildirFolders(root, "INBOX"))
    for (const m of messageFiles(f.dir)) {
      messages++;
      try {
        bytes += statSync(m.path).size;
      } catch {
        // gone meanwhile: the read reports it
      }
    }
  return { messages, bytes };
}

/** Subscribed folder names from Dovecot's "subscriptions" file (version line, then names). */
function subscriptions(root: string): Set<string> | null {
  const f = join(root, "subscriptions");
  if (!existsSync(f)) return null;
  const lines = readFileSync(f, "utf8")
    .split("\n")
    .filter((l) => l && !/^V\t\d/.test(l));
  return new Set(lines.map((l) => l.replace(/\t/g, "/")));
}

export async function* readMaildir(root: string, rootName: string): AsyncGenerator<SourceEvent> {
  const subs = subscriptions(root);
  for (const folder of maildirFolders(root, rootName)) {
    if (folder.note) yield { kind: "note", text: folder.note };
    yield { kind: "folder", folder: { name: folder.name, specialUse: roleByName(folder.name), subscribed: subs ? subs.has(folder.name) : true } };
    const keywords = readKeywords(folder.dir);
    for (const m of messageFiles(folder.dir)) {
      const where = `${folder.name}: ${m.isNew ? "new" : "cur"}/${m.file}`;
      let raw: Uint8Array;
      let mtime: number;
      try {
        raw = new Uint8Array(readFileSync(m.path));
        mtime = statSync(m.path).mtimeMs;
      } catch (e) {
        yield { kind: "skip", where, reason: `cannot read: ${(e as Error).message}` };
        continue;
      }
      const why = notAMessage(raw);
      if (why) {
        yield { kind: "skip", where, reason: why };
        continue;
      }
      // Dovecot keeps the received date as the file's mtime.
      // Files in new/ normally carry no flags, but mbsync writes some there.
      const own = removeFields(raw, MBSYNC_FIELDS).raw;
      yield { kind: "message", msg: { folders: [folder.name], raw: toCrlf(own), flags: flagsOfName(m.file, keywords), internalDate: Math.floor(mtime / 1000) * 1000, where } };
    }
  }
}
