// Flags and folders carried in mbox header fields: Status/X-Status/X-Keywords (mutt,
// Dovecot; removed on import as Dovecot does), X-Mozilla-Status/-Keys (Thunderbird) and
// X-Gmail-Labels (Google Takeout).
import { decodeWords, getField, headerOf, removeFields } from "./message.ts";

/** The fields an mbox writer adds for flags: taken out so the bytes are the message's own. */
const MBOX_STATE_FIELDS = new Set(["status", "x-status", "x-keywords", "x-uid", "x-imap", "x-imapbase"]);

export interface MboxState {
  raw: Uint8Array;
  flags: string[];
  /** Gmail labels mapped to folder names; undefined when the message has none. */
  folders?: string[];
  /** Thunderbird marks deleted messages until the folder is compacted. */
  deleted?: boolean;
}

const X_STATUS: Record<string, string> = { A: "\\Answered", F: "\\Flagged", T: "\\Draft", D: "\\Deleted" };

// Thunderbird nsMsgMessageFlags (mailnews/base/public/nsMsgMessageFlags.idl).
const MOZ_READ = 0x1;
const MOZ_REPLIED = 0x2;
const MOZ_MARKED = 0x4;
const MOZ_EXPUNGED = 0x8;
const MOZ_FORWARDED = 0x1000;

/** Gmail system labels: a folder, a flag, or nothing (categories, Important). */
const GMAIL_LABELS: Record<string, { folder?: string; flag?: string; unread?: true } | null> = {
  inbox: { folder: "INBOX" },
  sent: { folder: "Sent" },
  drafts: { folder: "Drafts" },
  draft: { folder: "Drafts" },
  spam: { folder: "Junk" },
  trash: { folder: "Trash" },
  archived: { folder: "Archive" },
  starred: { flag: "\\Flagged" },
  unread: { unread: true },
  opened: null,
  important: null,
  chat: { folder: "Chats" },
};

/** Splits "Inbox,\"a, b\",Work/Project" (labels with commas are quoted). */
export function splitLabels(v: string): string[] {
  const out: string[] = [];
  const re = /\s*(?:"((?:[^"\\]|\\.)*)"|([^,]*))\s*(?:,|$)/gy;
  let m: RegExpExecArray | null;
  while (re.lastIndex < v.length && (m = re.exec(v))) {
    const s = (m[1] !== undefined ? m[1].replace(/\\(.)/g, "$1") : m[2]!).trim();
    if (s) out.push(s);
    if (m[0] === "") break;
  }
  return out;
}

/** Folders and flags of a Takeout message; no folder label means "All Mail" only: Archive. */
export function gmailLabels(value: string): { folders: string[]; flags: string[] } {
  const folders: string[] = [];
  const flags = new Set(["\\Seen"]);
  for (const label of splitLabels(decodeWords(value))) {
    const key = label.toLowerCase();
    if (key.startsWith("category ")) continue;
    const sys = key in GMAIL_LABELS ? GMAIL_LABELS[key] : undefined;
    if (sys === null) continue;
    if (sys?.unread) flags.delete("\\Seen");
    if (sys?.flag) flags.add(sys.flag);
    const folder = sys ? sys.folder : label;
    if (folder && !folders.includes(folder)) folders.push(folder);
  }
  if (!folders.length) folders.push("Archive");
  return { folders, flags: [...flags] };
}

export function mboxState(raw: Uint8Array): MboxState {
  const { raw: own, removed } = removeFields(raw, MBOX_STATE_FIELDS);
  const flags = new Set<string>();
  let deleted = false;
  for (const f of removed) {
    if (f.name === "status" && f.value.includes("R")) flags.add("\\Seen");
    if (f.name === "x-status") for (const c of f.value) if (X_STATUS[c]) flags.add(X_STATUS[c]!);
    if (f.name === "x-keywords") for (const k of f.value.split(/[\s,]+/)) if (k) flags.add(k);
  }
  const { fields } = headerOf(own);
  const moz = getField(fields, "x-mozilla-status");
  if (moz && /^[0-9a-f]{1,4}$/i.test(moz)) {
    const m = parseInt(moz, 16);
    if (m & MOZ_READ) flags.add("\\Seen");
    if (m & MOZ_REPLIED) flags.add("\\Answered");
    if (m & MOZ_MARKED) flags.add("\\Flagged");
    if (m & MOZ_FORWARDED) flags.add("$Forwarded");
    deleted = (m & MOZ_EXPUNGED) !== 0;
  }
  const mozKeys = getField(fields, "x-mozilla-keys");
  if (mozKeys) for (const k of mozKeys.split(/\s+/)) if (k) flags.add(k);
  const labels = getField(fields, "x-gmail-labels");
  if (labels !== null) {
    const g = gmailLabels(labels);
    for (const f of g.flags) flags.add(f);
    return { raw: own, flags: [...flags], folders: g.folders, deleted };
  }
  return { raw: own, flags: [...flags], deleted };
}
