// The one object-id scheme shared by JMAP (RFC 8620 §1.2 Id: 1–255 of [A-Za-z0-9_-]) and
// IMAP OBJECTID (RFC 8474 §4–5: MAILBOXID, EMAILID, THREADID use the same alphabet).
// A letter names the kind, then the row number in base 36:
//   mailbox  "m" + mailboxes.id      (stable across RENAME; never reused: AUTOINCREMENT)
//   email    "e" + messages.email_id (kept by MOVE; COPY and APPEND make a new one)
//   thread   "t" + messages.thread_id (the email id of the thread's first message)
//   blob     "b" + sha-256 hex of the stored bytes (uploads and whole messages)
export type IdKind = "m" | "e" | "t";

export const mailboxObjectId = (n: number): string => "m" + n.toString(36);
export const emailObjectId = (n: number): string => "e" + n.toString(36);
export const threadObjectId = (n: number): string => "t" + n.toString(36);

const NUMBER = /^[0-9a-z]{1,11}$/;

/** The row number inside an id of this kind, or null for anything else (ids from another
 *  kind, another server, or garbage never resolve). */
export function parseObjectId(kind: IdKind, id: unknown): number | null {
  if (typeof id !== "string" || id[0] !== kind) return null;
  const rest = id.slice(1);
  if (!NUMBER.test(rest)) return null;
  const n = parseInt(rest, 36);
  return Number.isSafeInteger(n) && n > 0 && n.toString(36) === rest ? n : null;
}

export const blobObjectId = (sha256hex: string): string => "b" + sha256hex;

export function parseBlobId(id: unknown): string | null {
  return typeof id === "string" && /^b[0-9a-f]{64}$/.test(id) ? id.slice(1) : null;
}
