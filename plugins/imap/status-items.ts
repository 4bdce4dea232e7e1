// STATUS data items (RFC 9051 §6.3.11, STATUS=SIZE RFC 8438, HIGHESTMODSEQ RFC 7162 §3.1.8),
// MAILBOXID (RFC 8474 §4.3), shared by STATUS and LIST-STATUS (RFC 5819).
import type { Mailbox } from "../../core/store/types.ts";
import { ParseError, type Args } from "./parser.ts";
import type { Session } from "./session.ts";
import { mailboxIdItem } from "./objectid.ts";

const ITEMS = new Set(["MESSAGES", "UIDNEXT", "UIDVALIDITY", "UNSEEN", "DELETED", "DELETED-STORAGE", "SIZE", "RECENT", "HIGHESTMODSEQ", "APPENDLIMIT", "MAILBOXID"]);

export function parseStatusItems(l: Args): string[] {
  const out: string[] = [];
  while (!l.done()) {
    const it = l.atom().toUpperCase();
    if (!ITEMS.has(it)) throw new ParseError(`Unknown STATUS item ${it}`);
    out.push(it);
  }
  if (out.length === 0) throw new ParseError("STATUS needs items");
  return out;
}

export async function statusItems(s: Session, mb: Mailbox, items: string[]): Promise<string> {
  const parts: string[] = [];
  let deleted: number | null = null;
  for (const it of items) {
    // RFC 8474 §4.3: not a number but "MAILBOXID (id)".
    if (it === "MAILBOXID") {
      parts.push(mailboxIdItem(mb));
      continue;
    }
    let v: number | string;
    switch (it) {
      case "MESSAGES":
        v = mb.messages;
        break;
      case "UIDNEXT":
        v = mb.uidnext;
        break;
      case "UIDVALIDITY":
        v = mb.uidvalidity;
        break;
      case "UNSEEN":
        v = mb.unseen;
        break;
      case "SIZE":
        v = mb.size;
        break;
      case "RECENT":
        v = s.rev2
          ? 0
          : await s.opts.recent.count(
              mb.id,
              (await s.opts.cache.uidList(mb.id, mb.highestModseq)).map((m) => m.uid),
            );
        break;
      case "HIGHESTMODSEQ":
        v = mb.highestModseq;
        await s.enableCondstore();
        break;
      case "APPENDLIMIT":
        v = s.opts.appendLimit;
        break;
      case "DELETED-STORAGE": {
        // RFC 9208 §4.2.2: KiB an EXPUNGE would free.
        const uids = (await s.opts.cache.uidList(mb.id, mb.highestModseq)).filter((m) => m.flags.includes("\\Deleted")).map((m) => m.uid);
        let bytes = 0;
        for (const m of uids.length ? await s.opts.cache.messages(mb.id, uids) : []) bytes += m.size;
        v = Math.ceil(bytes / 1024);
        break;
      }
      case "DELETED":
        if (deleted === null) deleted = (await s.opts.cache.uidList(mb.id, mb.highestModseq)).filter((m) => m.flags.includes("\\Deleted")).length;
        v = deleted;
        break;
      default:
        continue;
    }
    parts.push(`${it} ${v}`);
  }
  return parts.join(" ");
}
