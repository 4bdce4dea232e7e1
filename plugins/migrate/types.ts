// What a source (mbox, Maildir, .eml folder, another IMAP server) yields to the writer,
// and the report at the end of a run.

/** A folder of the source, announced before its messages. */
export interface SourceFolder {
  /** Target name, "/" as hierarchy delimiter ("INBOX" for the inbox). */
  name: string;
  /** RFC 6154 role ("\\Sent" …): mapped onto the account's mailbox with that role. */
  specialUse?: string | null;
  subscribed?: boolean;
}

export interface SourceMessage {
  /** Target mailboxes; several for Gmail labels (the same content, one blob). */
  folders: string[];
  /** The message, CRLF line ends. */
  raw: Uint8Array;
  flags: string[];
  internalDate?: number;
  /** Where it came from, for the report ("inbox.mbox message 12", "cur/1:2,S"). */
  where: string;
  /** Remembered in the same transaction as the rows (migrate's resume state). */
  key?: { folder: string; uidvalidity: number; uid: number; messageId: string };
}

export type SourceEvent =
  | { kind: "folder"; folder: SourceFolder }
  | { kind: "message"; msg: SourceMessage }
  | { kind: "skip"; where: string; reason: string }
  | { kind: "note"; text: string }
  /** Messages the source has that an earlier run copied (not fetched again). */
  | { kind: "existing"; count: number; bytes?: number };

/** A failure to report as one line (bad path, unknown account, login refused …). */
export class JobError extends Error {}

/** What a source knows before it starts (for ETA); either may be unknown. */
export interface SourceTotals {
  messages?: number;
  bytes?: number;
}

export interface Counts {
  found: number;
  imported: number;
  skipped: number;
  existing: number;
  bytes: number;
}

export interface Report extends Counts {
  skippedList: { where: string; reason: string }[];
  notes: string[];
  folders: number;
  seconds: number;
}

export const emptyCounts = (): Counts => ({ found: 0, imported: 0, skipped: 0, existing: 0, bytes: 0 });
