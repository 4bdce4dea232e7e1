// `kotakpos import PATH`: what PATH is (an mbox file, a Maildir, a folder of .eml files
// and/or .mbox files, or one message) and the events it yields.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { basename, join, relative } from "node:path";
import { isMaildir, maildirTotals, readMaildir, roleByName } from "./maildir.ts";
import { readMbox } from "./mbox.ts";
import { headerOf, notAMessage, receivedDate, toCrlf } from "./message.ts";
import { JobError as SourceError, type SourceEvent, type SourceTotals } from "./types.ts";

export interface FileSource {
  kind: "mbox" | "maildir" | "folder";
  totals: SourceTotals;
  events: AsyncGenerator<SourceEvent>;
}

/** A directory (not a Maildir): .eml files are messages, .mbox files and Maildirs inside
 *  are folders, subdirectories are subfolders. */
function* walkFolder(root: string, dir: string, folderOf: (rel: string) => string): Generator<{ kind: "eml" | "mbox" | "maildir"; path: string; folder: string }> {
  const entries = readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name));
  const rel = relative(root, dir);
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isFile() && /\.eml$/i.test(e.name)) yield { kind: "eml", path: p, folder: folderOf(rel) };
  }
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isFile() && /\.mbox$/i.test(e.name)) yield { kind: "mbox", path: p, folder: folderOf(join(rel, e.name.replace(/\.mbox$/i, ""))) };
    else if (e.isDirectory() && isMaildir(p)) yield { kind: "maildir", path: p, folder: folderOf(join(rel, e.name)) };
    else if (e.isDirectory()) yield* walkFolder(root, p, folderOf);
  }
}

async function* readFolder(root: string, target: string): AsyncGenerator<SourceEvent> {
  // The top level is the target mailbox; "INBOX.mbox" there is the inbox itself.
  const folderOf = (rel: string) => {
    if (!rel) return target;
    const name = rel.split("/").filter(Boolean).join("/");
    return target === "INBOX" ? (name.toUpperCase() === "INBOX" ? "INBOX" : name) : `${target}/${name}`;
  };
  const announced = new Set<string>();
  for (const item of walkFolder(root, root, folderOf)) {
    if (!announced.has(item.folder) && item.kind !== "maildir") {
      announced.add(item.folder);
      yield { kind: "folder", folder: { name: item.folder, specialUse: roleByName(basename(item.folder)), subscribed: true } };
    }
    if (item.kind === "mbox") yield* readMbox(item.path, item.folder);
    else if (item.kind === "maildir") yield* readMaildir(item.path, item.folder);
    else yield* readEml(item.path, item.folder, relative(root, item.path));
  }
}

async function* readEml(path: string, folder: string, where: string): AsyncGenerator<SourceEvent> {
  let raw: Uint8Array;
  try {
    raw = new Uint8Array(readFileSync(path));
  } catch (e) {
    return yield { kind: "skip", where, reason: `cannot read: ${(e as Error).message}` };
  }
  const why = notAMessage(raw);
  if (why) return yield { kind: "skip", where, reason: why };
  const date = receivedDate(headerOf(raw).fields) ?? statSync(path).mtimeMs;
  yield { kind: "message", msg: { folders: [folder], raw: toCrlf(raw), flags: ["\\Seen"], internalDate: Math.floor(date / 1000) * 1000, where } };
}

function folderTotals(root: string): SourceTotals {
  let bytes = 0;
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) {
        if (isMaildir(p)) {
          bytes += maildirTotals(p).bytes ?? 0;
        } else walk(p);
      } else if (/\.(eml|mbox)$/i.test(e.name)) {
        bytes += statSync(p).size;
      }
    }
  };
  walk(root);
  return { bytes };
}

/** Opens PATH for import into `mailbox` (INBOX by default). */
export function openFileSource(path: string, mailbox = "INBOX"): FileSource {
  if (!existsSync(path)) throw new SourceError(`${path}: no such file or directory`);
  const st = statSync(path);
  if (st.isDirectory()) {
    if (isMaildir(path)) return { kind: "maildir", totals: maildirTotals(path), events: readMaildir(path, mailbox) };
    return { kind: "folder", totals: folderTotals(path), events: readFolder(path, mailbox) };
  }
  if (!st.isFile()) throw new SourceError(`${path}: not a file or directory`);
  // A file: an mbox, or one message (.eml) — readMbox imports a file without From_ line
  // as one message.
  return {
    kind: "mbox",
    totals: { bytes: st.size },
    events: (async function* () {
      yield { kind: "folder", folder: { name: mailbox, specialUse: roleByName(mailbox), subscribed: true } } as SourceEvent;
      yield* readMbox(path, mailbox);
    })(),
  };
}
