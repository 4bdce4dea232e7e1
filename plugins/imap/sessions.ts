// The logged-in IMAP sessions of this process, by account. One listener each on the
// store's changes, the IMAP event bus and accounts going away serves them all (rather
// than three closures and their unsubscribers per session, a few hundred bytes each of
// a thousand idle sessions), and a change reaches only its own account's sessions.
import type { Store } from "../../core/store/types.ts";
import type { ImapEvents } from "./events.ts";
import type { Session } from "./session.ts";

export class Sessions {
  private readonly byAccount = new Map<number, Set<Session>>();
  private readonly offs: (() => void)[];

  constructor(store: Store, events: ImapEvents) {
    this.offs = [
      store.onChange((ev) => {
        const set = this.byAccount.get(ev.accountId);
        if (set) for (const s of set) s.onStoreChange(ev);
      }),
      events.on((ev) => {
        // accountId 0: server METADATA, seen by every account.
        if (ev.accountId === 0) for (const set of this.byAccount.values()) for (const s of set) s.onImapEvent(ev);
        else {
          const set = this.byAccount.get(ev.accountId);
          if (set) for (const s of set) s.onImapEvent(ev);
        }
      }),
      // An admin disabled or deleted the account: end its sessions (RFC 9051 §7.1.5).
      store.onAccountGone((ev) => {
        const set = this.byAccount.get(ev.accountId);
        if (set) for (const s of [...set]) s.bye(`Account ${ev.reason}`);
      }),
    ];
  }

  /** A session logged in to the account. */
  add(accountId: number, s: Session): void {
    let set = this.byAccount.get(accountId);
    if (!set) this.byAccount.set(accountId, (set = new Set()));
    set.add(s);
  }

  /** It logged out, went back to not authenticated, or closed. */
  delete(accountId: number, s: Session): void {
    const set = this.byAccount.get(accountId);
    if (!set?.delete(s) || set.size > 0) return;
    this.byAccount.delete(accountId);
  }

  close(): void {
    for (const off of this.offs) off();
    this.byAccount.clear();
  }
}
