// Changes kept in IMAP's own tables that other sessions of the same user may have asked to
// hear of (NOTIFY, RFC 5465 §5.5–5.7): subscriptions to names that have no mailbox, and
// METADATA entries. The store's change events do not carry these, so the commands that
// make them tell this bus; one per process, shared by its sessions.
export type ImapEvent =
  | { kind: "subscription"; accountId: number; name: string; subscribed: boolean; origin: string }
  /** mailboxId 0: server entries (RFC 5464 §3.2); accountId 0: seen by every account. */
  | { kind: "metadata"; accountId: number; mailboxId: number; entries: string[]; origin: string };

export class ImapEvents {
  private listeners = new Set<(ev: ImapEvent) => void>();

  on(fn: (ev: ImapEvent) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  emit(ev: ImapEvent): void {
    for (const fn of this.listeners) fn(ev);
  }
}
