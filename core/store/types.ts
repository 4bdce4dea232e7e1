// The mailbox store's public API (DESIGN.md "Storage and durability").
// IMAP, POP3, SMTP, webmail and the CLI use only this interface.
import type { Analysis } from "../mime/analyze.ts";
import type { Tx } from "../db/open.ts";
import type { MimePart } from "../mime/types.ts";

export interface Domain {
  id: number;
  name: string; // lower-case, Unicode (U-label) form
  createdAt: number;
}

export interface Account {
  id: number;
  address: string; // "local@domain", lower-case domain
  domainId: number;
  createdAt: number;
  disabled: boolean;
}

export interface Mailbox {
  id: number;
  accountId: number;
  /** Full name with "/" as hierarchy delimiter; "INBOX" is always spelled so. */
  name: string;
  /** RFC 6154: "\\Sent", "\\Drafts", "\\Trash", "\\Junk", "\\Archive", or null. */
  specialUse: string | null;
  uidvalidity: number;
  uidnext: number;
  highestModseq: number;
  messages: number;
  unseen: number;
  /** Sum of message sizes (STATUS SIZE). */
  size: number;
  subscribed: boolean;
  /** Account modseq at creation, and of the last change to the row or its messages
   *  (JMAP Mailbox/changes). */
  createdModseq: number;
  changedModseq: number;
}

/** A message row: its IMAP state plus what was parsed once at delivery (`Analysis`:
 *  envelope, structure, decoded search fields, preview). */
export interface MessageMeta extends Analysis {
  id: number; // row id
  mailboxId: number;
  uid: number;
  modseq: number;
  /** System flags ("\\Seen" …) and keywords ("$Forwarded" …), sorted. */
  flags: string[];
  internalDate: number; // ms since epoch
  /** When it was saved into this mailbox (RFC 8514 SAVEDATE), ms since epoch. */
  savedAt: number;
  /** Bytes of the full message as FETCH RFC822 returns it (prefix + blob). */
  size: number;
  blobId: string;
  /** Length of the per-message prefix (headers we added) in bytes; body offsets in
   *  `structure` are relative to the full message (prefix included). */
  prefixSize: number;
  /** Stable ids (core/store/ids.ts): the email id survives MOVE; the thread id is the
   *  email id of the thread's first message. */
  emailId: number;
  threadId: number;
  /** Account modseq when this email id appeared. */
  createdModseq: number;
}

/** A sequence of UIDs: explicit list or ranges (inclusive); "*" is resolved by callers. */
export type UidSet = number[];

export type FlagOp = "add" | "remove" | "set";

export interface StoreChange {
  accountId: number;
  mailboxId: number;
  kind: "append" | "flags" | "expunge" | "mailbox";
  uids: number[];
  modseq: number;
  /** Session that caused it (so it can skip its own echo where the RFC says so). */
  origin?: string;
  /** "append" by mail delivery (the spool's local delivery), not APPEND/COPY/MOVE/import:
   *  what auto-replies (JMAP VacationResponse, RFC 3834) react to. */
  delivered?: boolean;
  /** "append" and "flags": the new flags of each UID in `uids` (same order), when the store
   *  knows them without a read, so caches can update in place instead of re-reading. */
  flags?: string[][];
  /** "flags": the flags each UID in `uids` gained in this change (same order), so a
   *  listener can tell a message just read (\Seen added) from one that was already. */
  added?: string[][];
  /** Made by another instance on the same database (seen by the change feed): listeners
   *  with side effects (training, auto-replies) leave it to the instance that made it. */
  remote?: boolean;
}

/** An account an admin disabled or deleted: protocol plugins end its open sessions. */
export interface AccountGone {
  accountId: number;
  address: string;
  reason: "disabled" | "deleted";
}

/** Admin-set limits (RFC 9208 STORAGE in KiB, MESSAGE); null: unlimited. */
export interface QuotaLimits {
  storageKib: number | null;
  messages: number | null;
}

export interface Quota extends QuotaLimits {
  usedBytes: number;
  usedMessages: number;
}

export interface AppendOptions {
  flags?: string[];
  internalDate?: number;
  /** Header lines we add (Received …), each CRLF-terminated. */
  prefix?: string[];
  origin?: string;
}

/** One message of Store.appendBatch. */
export interface BatchItem {
  mailboxId: number;
  raw: Uint8Array;
  flags?: string[];
  internalDate?: number;
}

export type BatchResult = { status: "added"; mailboxId: number; blobId: string; uid: number } | { status: "exists"; mailboxId: number; blobId: string };

export interface BatchOptions {
  origin?: string;
  /** Runs inside the batch's transaction after the rows (the caller's bookkeeping). */
  inTx?(tx: Tx, results: BatchResult[]): Promise<void>;
}

export interface DeliveryTarget {
  accountId: number;
  mailbox: string; // name; falls back to INBOX if missing
  flags?: string[];
  /** Header lines (CRLF-terminated) for this copy only, after the shared prefix (e.g. the
   *  junk filter's X-Spam-Score, one per recipient account). */
  headers?: string[];
}

/** One Email/query condition (RFC 8621 §4.4.1), mailbox ids and dates already resolved
 *  to row ids and ms; every present field must match. */
export interface EmailLeaf {
  inMailbox?: number;
  inMailboxOtherThan?: number[];
  before?: number;
  after?: number;
  minSize?: number;
  maxSize?: number;
  hasKeyword?: string;
  notKeyword?: string;
  hasAttachment?: boolean;
  text?: string;
  from?: string;
  to?: string;
  cc?: string;
  bcc?: string;
  subject?: string;
  body?: string;
}
export type EmailCondition = EmailLeaf | { operator: "AND" | "OR" | "NOT"; conditions: EmailCondition[] };
export interface EmailSort {
  property: "receivedAt" | "sentAt" | "size" | "from" | "to" | "subject";
  isAscending: boolean;
}

/** Object ids changed since a state (RFC 8620 §5.2); newModseq is the state they reach. */
export interface ObjectChanges {
  created: number[];
  updated: number[];
  destroyed: number[];
  newModseq: number;
  hasMoreChanges: boolean;
}

export interface Store {
  // domains
  addDomain(name: string): Promise<Domain>;
  listDomains(): Promise<Domain[]>;
  deleteDomain(name: string): Promise<boolean>;
  isLocalDomain(name: string): Promise<boolean>;

  // accounts (passwords hashed with argon2id via Bun.password)
  createAccount(address: string, password: string): Promise<Account>;
  getAccount(address: string): Promise<Account | null>;
  getAccountById(id: number): Promise<Account | null>;
  listAccounts(domain?: string): Promise<Account[]>;
  /** Many accounts at once (one query, for alias expansion), keyed by the address asked
   *  for, as stored; `caseFold` also matches stored addresses case-insensitively. */
  findAccounts(addresses: string[], opts?: { caseFold?: boolean }): Promise<Map<string, Account>>;
  setPassword(address: string, password: string): Promise<boolean>;
  /** A disabled account cannot log in (every protocol and the web); mail to it is still
   *  delivered. False when there is no such account. */
  setDisabled(address: string, disabled: boolean): Promise<boolean>;
  deleteAccount(address: string): Promise<boolean>;
  /** The account when the password matches, else null (constant-ish time). */
  verifyPassword(address: string, password: string): Promise<Account | null>;

  // quota (RFC 9208): APPEND and COPY fail with OVERQUOTA at the limit
  getQuota(accountId: number): Promise<Quota>;
  /** At or over a limit (no room for one more message): what SMTP asks at RCPT. */
  atQuota(accountId: number): Promise<boolean>;
  setQuota(accountId: number, limits: QuotaLimits): Promise<void>;

  // mailboxes
  listMailboxes(accountId: number): Promise<Mailbox[]>;
  /** "INBOX" matches case-insensitively. */
  getMailbox(accountId: number, name: string): Promise<Mailbox | null>;
  getMailboxById(id: number): Promise<Mailbox | null>;
  createMailbox(accountId: number, name: string, specialUse?: string | null): Promise<Mailbox>;
  deleteMailbox(accountId: number, name: string): Promise<void>;
  /** RFC 9051 §6.3.6; renaming INBOX moves its messages to the new mailbox. */
  renameMailbox(accountId: number, from: string, to: string): Promise<void>;
  setSubscribed(accountId: number, name: string, subscribed: boolean): Promise<void>;

  // messages
  append(mailboxId: number, raw: Uint8Array, opts?: AppendOptions): Promise<{ uid: number; uidvalidity: number; modseq: number; id: number; emailId: number; threadId: number }>;
  /** Many messages, one group-committed write; exact duplicates in a mailbox are skipped. */
  appendBatch(items: BatchItem[], opts?: BatchOptions): Promise<BatchResult[]>;
  /** Several messages, one transaction: all are stored or none (IMAP MULTIAPPEND). */
  appendMany(mailboxId: number, items: { raw: Uint8Array; opts?: AppendOptions }[]): Promise<{ uid: number; uidvalidity: number; modseq: number; id: number; emailId: number; threadId: number }[]>;
  /** In an open write transaction (spool accept): rows for a blob already stored. */
  appendInTx(tx: Tx, target: DeliveryTarget, blob: StoredBlob, prefix: string[], parsed: ParsedMessage, opts?: { internalDate?: number }): Promise<{ uid: number; mailboxId: number }>;
  /** In an open write transaction: one more reference to a prepared blob (a spool
   *  message); its GC pin ends at COMMIT. */
  refBlobInTx(tx: Tx, blob: StoredBlob): Promise<void>;
  /** Store a blob durably (fsync) and parse it once: before a write transaction. */
  /** `structure`: raw's MIME structure at offset 0, when parsed already (IncomingMessage.structure). */
  prepare(raw: Uint8Array, prefix?: string[], structure?: MimePart): Promise<{ blob: StoredBlob; parsed: ParsedMessage }>;
  /** Messages of a mailbox in UID order; optionally only these UIDs / changed since. */
  messages(mailboxId: number, opts?: { uids?: UidSet; changedSince?: number }): Promise<MessageMeta[]>;
  /** Just (uid, modseq, flags) in UID order: cheap, for sequence maps and FLAGS fetches;
   *  with `changedSince`, only the messages added or changed after that modseq (with
   *  vanished(): what a list complete to it lacks). */
  uidList(mailboxId: number, changedSince?: number): Promise<{ uid: number; modseq: number; flags: string[] }[]>;
  /** The full message bytes (prefix + blob). */
  read(msg: Pick<MessageMeta, "blobId" | "id"> & { size?: number }): Promise<Uint8Array>;
  /** What reading whole messages needs (POP3's maildrop), in UID order: a cheap listing
   *  (no envelope or structure). `size` is prefix + blob. */
  blobList(mailboxId: number): Promise<{ id: number; uid: number; size: number; blobId: string }[]>;
  /** The prefixes (header lines added at delivery) of these message rows, in one query: read()
   *  for many messages is prefixes() plus blobs.get(). A row expunged meanwhile is missing. */
  prefixes(ids: readonly number[]): Promise<Map<number, string>>;
  setFlags(
    mailboxId: number,
    uids: UidSet,
    op: FlagOp,
    flags: string[],
    opts?: { unchangedSince?: number; origin?: string },
  ): Promise<{ changed: { uid: number; modseq: number; flags: string[] }[]; failed: number[] }>;
  copy(fromMailboxId: number, uids: UidSet, toMailboxId: number, opts?: { origin?: string }): Promise<{ uidvalidity: number; map: [from: number, to: number][] }>;
  move(fromMailboxId: number, uids: UidSet, toMailboxId: number, opts?: { origin?: string }): Promise<{ uidvalidity: number; map: [from: number, to: number][] }>;
  /** Expunge messages flagged \Deleted (restricted to `uids` when given). Returns expunged UIDs. */
  expunge(mailboxId: number, uids?: UidSet, opts?: { origin?: string }): Promise<number[]>;
  /** Expunge these UIDs whatever their flags (POP3 DELE, webmail delete). */
  remove(mailboxId: number, uids: UidSet, opts?: { origin?: string }): Promise<number[]>;
  /** UIDs expunged with modseq > since (QRESYNC VANISHED). */
  vanished(mailboxId: number, since: number): Promise<number[]>;

  // account-wide objects (JMAP; ids in core/store/ids.ts)
  /** The account's modseq: every change to its mailboxes or messages raises it. */
  accountModseq(accountId: number): Promise<number>;
  /** Per mailbox: distinct threads, and threads with an unseen message (JMAP Mailbox). */
  mailboxThreadCounts(accountId: number): Promise<Map<number, { total: number; unread: number }>>;
  /** The rows of these email ids in the account (others' ids simply do not match). */
  emailsById(accountId: number, emailIds: number[]): Promise<MessageMeta[]>;
  /** The email and thread ids of these UIDs of a mailbox (IMAP OBJECTID's EMAILID and
   *  THREADID without the rest of the row), ascending by UID; gone UIDs are left out. */
  objectIds(mailboxId: number, uids: number[]): Promise<{ uid: number; emailId: number; threadId: number }[]>;
  /** Thread id → its email ids, oldest first. */
  threadEmails(accountId: number, threadIds: number[]): Promise<Map<number, number[]>>;
  /** Matching emails in sort order (ties: newest email id first); the first `limit` only
   *  when given. */
  queryEmails(accountId: number, filter: EmailCondition | null, sort: EmailSort[], limit?: number): Promise<{ emailId: number; threadId: number }[]>;
  /** Changes since a modseq; null when they cannot be calculated (unknown state). */
  emailChanges(accountId: number, since: number, max: number): Promise<ObjectChanges | null>;
  mailboxChanges(accountId: number, since: number, max: number): Promise<ObjectChanges | null>;
  threadChanges(accountId: number, since: number, max: number): Promise<ObjectChanges | null>;

  // events (DESIGN.md: mailbox changes are events, not hooks)
  onChange(cb: (ev: StoreChange) => void): () => void;
  /** Told after an account is disabled or deleted (in this process); returns unsubscribe. */
  onAccountGone(cb: (ev: AccountGone) => void): () => void;
  /** Other processes or instances write this database too (the change feed follows them):
   *  their changes reach onChange late (up to a poll interval) and possibly after our own
   *  later ones, so a cache kept from events alone may lag what a fresh read sees. */
  othersWrite(): boolean;
  /** Invariant check (counts, uids, refcounts, blobs present): [] when consistent. */
  check(): Promise<string[]>;
  /** The blob store behind the messages (the spool reads queued messages from it). */
  readonly blobs: BlobStore;
}

export interface StoredBlob {
  id: string; // sha-256 hex
  size: number;
}

/** What parsing once at delivery yields (stored with each message row). */
export interface ParsedMessage extends Analysis {
  size: number; // prefix + raw
  prefixSize: number;
  /** Message-IDs this one replies to (References, else In-Reply-To), for its thread. */
  threadRefs?: string[];
}

/** Content-addressed, immutable blob storage (filesystem; S3 later). */
export interface BlobStore {
  /** Write durably (temp file, fsync, rename, fsync dir); idempotent for equal content. */
  put(data: Uint8Array): Promise<StoredBlob>;
  /** `size` (when the caller knows it, e.g. from the message row) lets a small blob be read
   *  the cheapest way. */
  get(id: string, size?: number): Promise<Uint8Array>;
  /** Blobs up to this many bytes (size given to get) are read on the calling thread, from
   *  the page cache: starting such a read early overlaps nothing. */
  readonly syncReadMax?: number;
  /** Reads a blob of `size` bytes (at most syncReadMax) on the calling thread straight into
   *  `buf` at `offset`: no buffer of its own (POP3 RETR reads into its output). `buf` must
   *  have room for size + 1 bytes (the one more tells a longer file). Throws when the blob
   *  is missing or not `size` bytes; the caller then uses get(). */
  readInto?(id: string, size: number, buf: Uint8Array, offset: number): void;
  /** Reads small blobs (each at most syncReadMax) together, off the calling thread (one hop
   *  for the lot: pipelined POP3 RETRs): per blob its bytes, or null when it is missing or
   *  not `size` bytes (the caller then uses get(), which reports). The bytes are views of
   *  `into` when given and large enough (size + 1 each): the caller's buffer, reused. */
  readMany?(blobs: readonly { id: string; size: number }[], into?: SharedArrayBuffer): Promise<(Uint8Array | null)[]>;
  has(id: string): Promise<boolean>;
  delete(id: string): Promise<void>;
  list(): AsyncIterable<{ id: string; mtimeMs: number }>;
}
