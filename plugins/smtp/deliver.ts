// After DATA: merge the parallel smtp.data checks (DESIGN.md: reject > defer >
// quarantine) and turn the accepted recipients' routes into one spool commit.
import type { AcceptedMessage } from "../../core/spool/types.ts";
import type { DeliveryTarget } from "../../core/store/types.ts";
import type { DataCheck, DataResult, Route } from "../../core/types.ts";
import type { RcptParams } from "./command.ts";

export interface MergedChecks {
  verdict: DataResult;
  /** Header lines from every check, in handler order, CRLF-terminated. */
  headers: string[];
  /** Byte ranges of the message to drop (DataCheck.removeHeaders; added by the mailauth helper). */
  remove: { start: number; end: number }[];
  /** Accounts whose local copies go to Junk (DataCheck.junk, from every check). */
  junk: Set<number>;
  /** Header lines for one account's copies only (DataCheck.accountHeaders), CRLF-terminated. */
  accountHeaders: Map<number, string[]>;
}

/** One header line as a check gave it, CRLF-terminated, or null when it is not a field. A
 *  header line must not smuggle an empty line (which would end the header section). */
function headerLine(h: string): string | null {
  const body = h.replace(/[\r\n]+$/, "").replace(/\r(?!\n)/g, " ");
  const line = body.replace(/\r?\n([ \t])?/g, (_, w: string | undefined) => `\r\n${w ?? "\t"}`) + "\r\n";
  return /^[\x21-\x39\x3b-\x7e]+:/.test(line) ? line : null;
}

const RANK: Record<DataResult["kind"], number> = { disconnect: 5, reject: 4, defer: 3, quarantine: 2, accept: 1, pass: 0 };

export function mergeChecks(checks: (DataCheck | undefined | null)[]): MergedChecks {
  let verdict: DataResult = { kind: "pass" };
  const headers: string[] = [];
  const remove: { start: number; end: number }[] = [];
  const junk = new Set<number>();
  const accountHeaders = new Map<number, string[]>();
  for (const c of checks) {
    if (!c) continue;
    for (const a of c.junk ?? []) junk.add(a);
    for (const { accountId, headers: hs } of c.accountHeaders ?? []) {
      const list = accountHeaders.get(accountId) ?? [];
      for (const h of hs) {
        const line = headerLine(h);
        if (line) list.push(line);
      }
      if (list.length) accountHeaders.set(accountId, list);
    }
    for (const r of c.removeHeaders ?? []) remove.push(r);
    if (c.verdict && RANK[c.verdict.kind] > RANK[verdict.kind]) verdict = c.verdict;
    for (const h of c.headers ?? []) {
      const line = headerLine(h);
      if (line) headers.push(line);
    }
  }
  return { verdict, headers, remove, junk, accountHeaders };
}

/** The message without the given byte ranges (forged Authentication-Results, RFC 8601 §5;
 *  DataCheck.removeHeaders, first written by the mailauth helper). Only ranges inside the
 *  header section that start and end on line boundaries are honoured, so a check can never
 *  cut into the body or leave half a field; overlaps merge. None valid → the same buffer. */
export function dropRanges(raw: Buffer, ranges: { start: number; end: number }[]): Buffer {
  if (ranges.length === 0) return raw;
  const blank = raw.indexOf("\r\n\r\n");
  const headerEnd = blank < 0 ? raw.length : blank + 2;
  const lineStart = (i: number) => i === 0 || (raw[i - 1] === 0x0a && raw[i - 2] === 0x0d);
  const valid = ranges
    .filter((r) => Number.isInteger(r.start) && Number.isInteger(r.end) && r.start >= 0 && r.end > r.start && r.end <= headerEnd && lineStart(r.start) && lineStart(r.end))
    .sort((a, b) => a.start - b.start);
  if (valid.length === 0) return raw;
  const parts: Buffer[] = [];
  let pos = 0;
  for (const r of valid) {
    if (r.start > pos) parts.push(raw.subarray(pos, r.start));
    pos = Math.max(pos, r.end);
  }
  parts.push(raw.subarray(pos));
  return Buffer.concat(parts);
}

export interface AcceptedRcpt {
  route: Route;
  dsn: RcptParams;
}

/** Local targets deduplicated (two aliases of one account get one copy); quarantine puts
 *  the local copies in "Junk" (the store falls back to INBOX when it is missing), and so
 *  does a per-account junk verdict for that account's copies; either way with the $Junk
 *  keyword, so a later move out of Junk can be learned as "not junk". An account's own
 *  header lines (DataCheck.accountHeaders) go with its copies only. */
export function buildDeliveries(
  rcpts: AcceptedRcpt[],
  quarantine: boolean,
  junk: ReadonlySet<number> = new Set(),
  accountHeaders: ReadonlyMap<number, string[]> = new Map(),
): Pick<AcceptedMessage, "local" | "remote"> {
  const local: DeliveryTarget[] = [];
  const seen = new Set<string>();
  const remote: AcceptedMessage["remote"] = [];
  const seenRemote = new Set<string>();
  for (const r of rcpts) {
    for (const l of r.route.local) {
      const junked = junk.has(l.accountId);
      const mailbox = quarantine || junked ? "Junk" : l.mailbox;
      const key = `${l.accountId}\0${mailbox.toUpperCase() === "INBOX" ? "INBOX" : mailbox}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const headers = accountHeaders.get(l.accountId);
      local.push({ accountId: l.accountId, mailbox, ...((junked || quarantine) && { flags: ["$Junk"] }), ...(headers && { headers }) });
    }
    for (const x of r.route.remote) {
      const key = `${x.address.toLowerCase()}\0${x.mailFrom ?? ""}`;
      if (seenRemote.has(key)) continue;
      seenRemote.add(key);
      const entry: AcceptedMessage["remote"][number] = { address: x.address };
      if (x.mailFrom !== undefined) entry.mailFrom = x.mailFrom;
      if (r.dsn.notify || r.dsn.orcpt) entry.dsn = { ...(r.dsn.notify && { notify: r.dsn.notify }), ...(r.dsn.orcpt && { orcpt: r.dsn.orcpt }) };
      remote.push(entry);
    }
  }
  return { local, remote };
}
