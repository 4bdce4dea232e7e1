// `kotakpos export`: the whole account as a Maildir++ tree (flags in the file names,
// keywords in dovecot-keywords, the received date as mtime, names in modified UTF-7 as
// Dovecot writes them) or as one mboxrd file per mailbox (flags in Status, X-Status and
// X-Keywords, which import reads and removes again).
import { mkdirSync, utimesSync, writeFileSync, openSync, writeSync, closeSync, existsSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { encodeMutf7 } from "../../core/store/mutf7.ts";
import type { Mailbox, MessageMeta, Store } from "../../core/store/types.ts";
import { toLf } from "./message.ts";
import { emptyCounts, JobError as ExportError, type Counts } from "./types.ts";

export type ExportFormat = "maildir" | "mbox";

const INFO: Record<string, string> = { "\\Draft": "D", "\\Flagged": "F", $Forwarded: "P", "\\Answered": "R", "\\Seen": "S", "\\Deleted": "T" };

/** "Work/Projects" → ".Work.Projects" ("." inside a level becomes "_": it is the separator). */
export function maildirFolderName(name: string): string {
  return (
    "." +
    name
      .split("/")
      .map((p) => encodeMutf7(p).replace(/\./g, "_"))
      .join(".")
  );
}

function asctime(ms: number): string {
  const d = new Date(ms);
  const day = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"][d.getUTCDay()];
  const mon = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"][d.getUTCMonth()];
  const p = (n: number) => String(n).padStart(2, "0");
  return `${day} ${mon} ${String(d.getUTCDate()).padStart(2, " ")} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} ${d.getUTCFullYear()}`;
}

/** mboxrd: every line matching ^>*From gets one more ">". */
function quoteFrom(lf: Uint8Array): Uint8Array {
  const text = Buffer.from(lf);
  const parts: Buffer[] = [];
  let pos = 0;
  while (pos < text.length) {
    let nl = text.indexOf(10, pos);
    nl = nl < 0 ? text.length : nl + 1;
    const line = text.subarray(pos, nl);
    let i = 0;
    while (line[i] === 62) i++;
    if (line.subarray(i, i + 5).toString("latin1") === "From ") parts.push(Buffer.from(">"));
    parts.push(line);
    pos = nl;
  }
  return Buffer.concat(parts);
}

function mboxEntry(m: MessageMeta, raw: Uint8Array): Uint8Array {
  const system = m.flags.filter((f) => f.startsWith("\\"));
  const keywords = m.flags.filter((f) => !f.startsWith("\\"));
  const xs = ["\\Answered", "\\Flagged", "\\Draft", "\\Deleted"].filter((f) => system.includes(f)).map((f) => ({ "\\Answered": "A", "\\Flagged": "F", "\\Draft": "T", "\\Deleted": "D" })[f]!);
  let head = `From kotakpos ${asctime(m.internalDate)}\n`;
  head += `Status: ${system.includes("\\Seen") ? "RO" : "O"}\n`;
  if (xs.length) head += `X-Status: ${xs.join("")}\n`;
  if (keywords.length) head += `X-Keywords: ${keywords.join(" ")}\n`;
  let body = quoteFrom(toLf(raw));
  if (body.length && body[body.length - 1] !== 10) body = Buffer.concat([body, Buffer.from("\n")]);
  return Buffer.concat([Buffer.from(head), body, Buffer.from("\n")]);
}

async function* eachMessage(store: Store, mb: Mailbox): AsyncGenerator<{ meta: MessageMeta; raw: Uint8Array }> {
  const list = await store.messages(mb.id);
  for (const meta of list) yield { meta, raw: await store.read(meta) };
}

export async function exportAccount(store: Store, accountId: number, dest: string, format: ExportFormat, onProgress?: (c: Counts) => void): Promise<Counts & { mailboxes: number }> {
  if (existsSync(dest) && readdirSync(dest).length) throw new ExportError(`${dest} exists and is not empty`);
  mkdirSync(dest, { recursive: true });
  const counts = emptyCounts();
  const boxes = await store.listMailboxes(accountId);
  const host = "kotakpos";
  for (const mb of boxes) {
    if (format === "maildir") {
      const dir = mb.name === "INBOX" ? dest : join(dest, maildirFolderName(mb.name));
      for (const d of ["cur", "new", "tmp"]) mkdirSync(join(dir, d), { recursive: true });
      if (mb.name !== "INBOX") writeFileSync(join(dir, "maildirfolder"), "");
      const keywords: string[] = [];
      for await (const { meta, raw } of eachMessage(store, mb)) {
        let info = meta.flags.map((f) => INFO[f] ?? "").join("");
        for (const k of meta.flags.filter((f) => !f.startsWith("\\") && !INFO[f])) {
          let i = keywords.indexOf(k);
          if (i < 0 && keywords.length < 26) i = keywords.push(k) - 1;
          if (i >= 0) info += String.fromCharCode(97 + i);
        }
        info = [...info].sort().join("");
        // Named so that sorting by name (as import does) keeps the UID order.
        const file = join(dir, "cur", `${String(meta.uid).padStart(10, "0")}.V${mb.uidvalidity}.${host},S=${raw.length}:2,${info}`);
        writeFileSync(file, raw);
        utimesSync(file, meta.internalDate / 1000, meta.internalDate / 1000);
        counts.found++;
        counts.imported++;
        counts.bytes += raw.length;
        onProgress?.({ ...counts });
      }
      if (keywords.length) writeFileSync(join(dir, "dovecot-keywords"), keywords.map((k, i) => `${i} ${k}\n`).join(""));
    } else {
      const file = join(dest, `${mb.name}.mbox`);
      mkdirSync(dirname(file), { recursive: true });
      const fd = openSync(file, "w");
      try {
        for await (const { meta, raw } of eachMessage(store, mb)) {
          writeSync(fd, mboxEntry(meta, raw));
          counts.found++;
          counts.imported++;
          counts.bytes += raw.length;
          onProgress?.({ ...counts });
        }
      } finally {
        closeSync(fd);
      }
    }
  }
  if (format === "maildir") {
    // Dovecot's subscriptions file (version 2: tab-separated hierarchy).
    const subs = boxes.filter((b) => b.subscribed && b.name !== "INBOX").map((b) => b.name.replace(/\//g, "\t"));
    writeFileSync(join(dest, "subscriptions"), `V\t2\n\n${subs.map((s) => s + "\n").join("")}`);
  }
  return { ...counts, mailboxes: boxes.length };
}
