// The durable spool (DESIGN.md "Storage and durability"): one blob, one row per recipient.
import type { DeliveryTarget } from "../store/types.ts";
import type { MimePart } from "../mime/types.ts";

export interface AcceptedMessage {
  /** As received, CRLF line endings, without our added headers. */
  raw: Uint8Array;
  /** Header lines we add (Received, Authentication-Results …), CRLF-terminated. */
  prefix: string[];
  /** Envelope sender ("" for the null sender). */
  mailFrom: string;
  /** Local deliveries (after alias expansion). */
  local: DeliveryTarget[];
  /** Remote recipients for MX delivery; mailFrom overrides the envelope sender (SRS). */
  remote: { address: string; mailFrom?: string; dsn?: { notify?: string[]; orcpt?: string } }[];
  /** DSN parameters of the transaction (RFC 3461). */
  dsn?: { ret?: "FULL" | "HDRS"; envid?: string };
  /** Our own bounce: never bounce it again. */
  internal?: boolean;
  /** raw's MIME structure at offset 0 when a check parsed it already (not parsed twice). */
  structure?: MimePart;
}

/** "held": not delivered until released (e.g. plugins/ratelimit after a burst from the account). */
export type SpoolStatus = "queued" | "inflight" | "deferred" | "held" | "delivered" | "failed";

export interface QueueEntry {
  id: string; // message id in the spool
  recipient: string;
  mailFrom: string;
  status: SpoolStatus;
  attempts: number;
  nextAttempt: number; // ms
  lastError: string | null;
  createdAt: number;
  size: number;
}

export interface Spool {
  /** Commit one accepted message: local mailbox rows and remote spool rows in one
   *  transaction, the blob fsynced before. Resolves after commit: then say 250. */
  accept(msg: AcceptedMessage): Promise<{ id: string }>;
  list(): Promise<QueueEntry[]>;
  get(id: string): Promise<QueueEntry[]>;
  /** Make deferred entries of this message due now. */
  retry(id: string): Promise<number>;
  delete(id: string): Promise<number>;
  /** Hold the pending rows of messages with one of these envelope senders
   *  (case-insensitive; our own bounces never): the scheduler skips held rows, so they are
   *  neither delivered nor bounced until released (a row in flight finishes its attempt;
   *  if that fails for now, it stays held). Returns the message ids. */
  hold(mailFrom: string[]): Promise<string[]>;
  /** Held rows of these messages become due now; returns how many rows. */
  release(ids: string[]): Promise<number>;
  /** Fail the waiting recipients now, with a failure notice to the sender (a running
   *  server only: the notice goes through the scheduler); returns how many. */
  bounce(id: string): Promise<number>;
  /** Start the delivery scheduler (serve only). */
  start(): void;
  stop(): Promise<void>;
}
