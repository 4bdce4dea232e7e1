// IMAP URLs (RFC 5092) naming a message or part in the user's own mailboxes, as CATENATE
// (RFC 4469 §3) takes them: "/INBOX;UIDVALIDITY=5/;UID=3/;SECTION=1.MIME;PARTIAL=0.100",
// relative, or absolute "imap://user@host/…" for this server.
import { findPart, parseSection, sectionBytes } from "./sections.ts";
import type { Core } from "../../core/types.ts";
import type { MailboxCache } from "./cache.ts";

/** What resolving a URL needs: a session, or the plugin itself (BURL, urlauth.ts). */
export interface UrlContext {
  core: Core;
  opts: { cache: MailboxCache };
}

export interface ImapUrl {
  /** The user of an absolute URL ("imap://user@host/…"), else null. */
  user: string | null;
  mailbox: string;
  uidvalidity: number | null;
  uid: number;
  section: string;
  partial: [number, number] | null;
}

export function parseImapUrl(url: string): ImapUrl | null {
  let path = url;
  let user: string | null = null;
  const abs = /^imap:\/\/(?:([^@/;]+)(?:;AUTH=[^@/]*)?@)?[^/]*(\/.*)$/i.exec(url);
  if (abs) {
    path = abs[2]!;
    if (abs[1] !== undefined) {
      try {
        user = decodeURIComponent(abs[1]);
      } catch {
        return null;
      }
    }
  }
  const m = /^\/([^;/][^;]*?)(?:;UIDVALIDITY=(\d+))?\/;UID=(\d+)(?:\/;SECTION=([^;]*))?(?:\/?;PARTIAL=(\d+)(?:\.(\d+))?)?(?:;EXPIRE=[^;]+)?(?:;URLAUTH=.*)?$/i.exec(path);
  if (!m) return null;
  let mailbox: string;
  let section: string;
  try {
    mailbox = decodeURIComponent(m[1]!);
    section = decodeURIComponent(m[4] ?? "");
  } catch {
    return null;
  }
  const uid = Number(m[3]);
  if (!uid) return null;
  const partial: [number, number] | null = m[5] !== undefined ? [Number(m[5]), m[6] !== undefined ? Number(m[6]) : Infinity] : null;
  return { user, mailbox, uidvalidity: m[2] ? Number(m[2]) : null, uid, section, partial };
}

/** The bytes a URL names in an account's mailboxes, or null (→ BADURL) when it names
 *  nothing there. */
export async function fetchImapUrl(s: UrlContext, u: ImapUrl, accountId: number): Promise<Uint8Array | null> {
  const store = s.core.store;
  const mb = await store.getMailbox(accountId, u.mailbox.toUpperCase() === "INBOX" ? "INBOX" : u.mailbox);
  if (!mb || (u.uidvalidity !== null && u.uidvalidity !== mb.uidvalidity)) return null;
  const [meta] = await s.opts.cache.messages(mb.id, [u.uid]);
  if (!meta) return null;
  const bytes = await store.read(meta);
  let data: Uint8Array | null = bytes;
  if (u.section) {
    let sec;
    try {
      sec = parseSection(u.section);
    } catch {
      return null;
    }
    if (sec.path.length && !findPart(meta.structure, sec.path)) return null;
    data = sectionBytes(meta.structure, bytes, sec);
  }
  if (!data) return null;
  if (u.partial) data = data.subarray(Math.min(u.partial[0], data.length), Math.min(u.partial[0] + u.partial[1], data.length));
  return data;
}
