// Typed store errors so protocols can map them (IMAP response codes, RFC 5530).
export type StoreErrorCode =
  | "NONEXISTENT" // mailbox/account/domain does not exist (IMAP [NONEXISTENT] / [TRYCREATE])
  | "ALREADYEXISTS" // name taken (IMAP [ALREADYEXISTS])
  | "HASCHILDREN" // mailbox has inferiors (IMAP [HASCHILDREN])
  | "INUSE" // e.g. domain still has accounts
  | "CANNOT" // operation not allowed (delete INBOX, rename into itself) (IMAP [CANNOT])
  | "INVALID" // malformed name or address
  | "OVERQUOTA"; // the account's quota would be exceeded (IMAP [OVERQUOTA], RFC 9208 §4.3)

export class StoreError extends Error {
  constructor(
    readonly code: StoreErrorCode,
    message: string,
  ) {
    super(message);
    this.name = "StoreError";
  }
}

export function isStoreError(e: unknown, code?: StoreErrorCode): e is StoreError {
  return e instanceof StoreError && (code === undefined || e.code === code);
}
