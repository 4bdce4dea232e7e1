// OBJECTID (RFC 8474): the ids IMAP shows are the ones JMAP uses (core/store/ids.ts), so a
// client speaking both sees one mailbox, one email, one thread.
import type { Mailbox, MessageMeta } from "../../core/store/types.ts";
import { emailObjectId, mailboxObjectId, parseObjectId, threadObjectId } from "../../core/store/ids.ts";
import { ParseError } from "./parser.ts";

/** §4.1–4.3: the MAILBOXID response code and STATUS item, "MAILBOXID (m1)". */
export const mailboxIdItem = (mb: Pick<Mailbox, "id">): string => `MAILBOXID (${mailboxObjectId(mb.id)})`;

/** §5.1 FETCH items; every message here has a thread, so THREADID is never NIL. */
export const emailIdItem = (m: Pick<MessageMeta, "emailId">): string => `EMAILID (${emailObjectId(m.emailId)})`;
export const threadIdItem = (m: Pick<MessageMeta, "threadId">): string => `THREADID (${threadObjectId(m.threadId)})`;

/** §7 objectid = 1*255(ALPHA / DIGIT / "_" / "-"). */
const OBJECTID = /^[A-Za-z0-9_-]{1,255}$/;

/** §5.2 SEARCH EMAILID / THREADID argument: the row number, or 0 for a well-formed id that
 *  is not one of ours (it matches nothing); a malformed one is a syntax error. */
export function searchObjectId(kind: "e" | "t", id: string): number {
  if (!OBJECTID.test(id)) throw new ParseError("Invalid object id");
  return parseObjectId(kind, id) ?? 0;
}
