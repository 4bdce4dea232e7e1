// RFC 1939 §8: one POP3 session at a time per maildrop. The lock lives in this process
// (one kotakpos instance per account's POP3 traffic).

export interface MaildropLocks {
  /** True when `owner` now holds the lock of `accountId`. */
  acquire(accountId: number, owner: string): boolean;
  /** Releases only if `owner` holds it. */
  release(accountId: number, owner: string): void;
  holder(accountId: number): string | undefined;
}

export function createLocks(): MaildropLocks {
  const held = new Map<number, string>();
  return {
    acquire(accountId, owner) {
      const h = held.get(accountId);
      if (h !== undefined && h !== owner) return false;
      held.set(accountId, owner);
      return true;
    },
    release(accountId, owner) {
      if (held.get(accountId) === owner) held.delete(accountId);
    },
    holder(accountId) {
      return held.get(accountId);
    },
  };
}
