// The maildrop of one POP3 session: a snapshot of INBOX taken at login, so message
// numbers stay stable for the whole session (RFC 1939 §5), with deletion marks that are
// applied only in the UPDATE state (§6).

export interface DropMessage {
  /** Its message number (RFC 1939 §5: 1 for the first). */
  readonly n: number;
  readonly uid: number;
  /** Row id and blob, what store.read() needs. */
  readonly id: number;
  readonly blobId: string;
  /** Octets RETR sends before stuffing (CRLF line ends); corrected after a read if the
   *  stored size ever differed. */
  size: number;
  /** Stored octets (prefix + blob): what the blob store's read needs. */
  readonly stored: number;
  deleted: boolean;
  /** Expunged meanwhile by another session (IMAP): RETR/TOP can no longer serve it. */
  gone: boolean;
}

export interface Maildrop {
  readonly mailboxId: number | null;
  readonly uidvalidity: number;
  readonly messages: readonly DropMessage[];
}

export type Lookup = { ok: true; msg: DropMessage } | { ok: false; error: string };

export function createMaildrop(mailbox: { id: number; uidvalidity: number } | null, metas: readonly { uid: number; id: number; blobId: string; size: number }[]): Maildrop {
  return {
    mailboxId: mailbox?.id ?? null,
    uidvalidity: mailbox?.uidvalidity ?? 0,
    messages: metas.map((m, i) => ({ n: i + 1, uid: m.uid, id: m.id, blobId: m.blobId, size: m.size, stored: m.size, deleted: false, gone: false })),
  };
}

/** Count and octets of the messages not marked deleted (STAT, RSET, login reply). */
export function dropStat(d: Maildrop): { count: number; size: number } {
  let count = 0;
  let size = 0;
  for (const m of d.messages) {
    if (m.deleted) continue;
    count++;
    size += m.size;
  }
  return { count, size };
}

/** RFC 1939 §5: a message number refers to a message not marked deleted. */
export function lookup(d: Maildrop, n: number | null): Lookup {
  if (n === null) return { ok: false, error: "Invalid message number" };
  const msg = n >= 1 ? d.messages[n - 1] : undefined;
  if (!msg) return { ok: false, error: `No such message, only ${d.messages.length} messages in maildrop` };
  if (msg.deleted) return { ok: false, error: `Message ${n} already deleted` };
  return { ok: true, msg };
}

/** RFC 1939 §8 / RFC 2449 §6.4 UIDL: stable across sessions; 1-70 chars of 0x21-0x7E. */
export function uniqueId(d: Maildrop, m: DropMessage): string {
  return `${d.uidvalidity}.${m.uid}`;
}

export function deletedUids(d: Maildrop): number[] {
  return d.messages.filter((m) => m.deleted && !m.gone).map((m) => m.uid);
}

export function undeleteAll(d: Maildrop): void {
  for (const m of d.messages) m.deleted = false;
}

/** Mark messages another session expunged. */
export function markGone(d: Maildrop, uids: readonly number[]): void {
  const set = new Set(uids);
  for (const m of d.messages) if (set.has(m.uid)) m.gone = true;
}
