// What the scheduler does with the results of one delivery attempt, in four steps that
// are each testable on their own (core/spool/record.test.ts):
//   classify  results → per-row outcome (delivered / failed / deferred / handed back),
//             with the `deferred` hook's retry time;
//   notices   which outcomes call for a delivery status notification (RFC 3464: failed,
//             delayed, relayed) and their DSN recipients;
//   persist   the outcomes and the notices in one transaction, only for rows whose lease
//             is still ours;
//   report    log lines and the delivered / bounced / message.queued hooks.
import { and, eq, inArray, sql } from "drizzle-orm";
import type { Tx } from "../db/open.ts";
import { spool } from "../db/schema.ts";
import type { Hooks, Logger } from "../types.ts";
import type { Store } from "../store/types.ts";
import type { RecipientResult } from "../delivery/index.ts";
import type { AcceptedMessage } from "./types.ts";
import { releaseIfDone } from "./admin.ts";
import { commitMessage, type Prepared } from "./accept.ts";
import { expired, type Schedule } from "./backoff.ts";
import type { DsnRecipient } from "./dsn.ts";

export type Row = typeof spool.$inferSelect;

export interface RowDsn {
  ret?: "FULL" | "HDRS";
  envid?: string;
  notify?: string[];
  orcpt?: string;
}

export const parseDsn = (r: Row): RowDsn => (r.dsn ? (JSON.parse(r.dsn) as RowDsn) : {});

export interface Outcome {
  row: Row;
  res: RecipientResult;
  /** "queued": handed back by a stop, the attempt not counted. */
  status: "delivered" | "failed" | "deferred" | "queued";
  next: number;
  attempts: number;
  why: string;
}

/** Each row's outcome from the delivery results (a row without a result is deferred). */
export function classify(rows: Row[], results: RecipientResult[], ctx: { now: number; stopping: boolean; schedule: Schedule }): Outcome[] {
  const byAddr = new Map(results.map((r) => [r.address, r]));
  return rows.map((row) => {
    const res = byAddr.get(row.recipient) ?? { address: row.recipient, ok: false, permanent: false, reply: "no result", status: "4.0.0" };
    const x: Outcome = { row, res, status: res.ok ? "delivered" : res.permanent ? "failed" : "deferred", next: row.nextAttempt, attempts: row.attempts, why: res.reply };
    if (x.status === "deferred" && ctx.stopping) {
      // Shut down before or during the attempt: it does not count.
      Object.assign(x, { status: "queued", next: ctx.now, attempts: row.attempts - 1 });
    } else if (x.status === "deferred" && expired(ctx.schedule, row.createdAt, ctx.now)) {
      x.status = "failed";
      x.why = `${res.reply} (gave up after ${row.attempts} attempts)`;
      res.status = res.status.startsWith("4") ? "4.4.7" : res.status;
    }
    return x;
  });
}

/** The `deferred` hook may move a deferred row's next attempt (the first "retry" wins). */
export async function askRetry(hooks: Hooks, outcomes: Outcome[]): Promise<void> {
  for (const x of outcomes) {
    if (x.status !== "deferred") continue;
    const answers = await hooks.run("deferred", { id: x.row.msgId, recipient: x.row.recipient, error: x.res.reply, attempts: x.row.attempts });
    const retry = answers.find((a) => a?.kind === "retry");
    if (retry?.kind === "retry") x.next = retry.retryAt;
  }
}

/** A notification for the envelope sender, unless it is the null sender, our own
 *  bounce, or the recipient asked for none (RFC 3461 §4.1 NOTIFY). */
export function wantsDsn(r: Row, kind: "FAILURE" | "DELAY" | "SUCCESS"): boolean {
  if (r.internal || r.mailFrom === "") return false;
  const notify = parseDsn(r).notify;
  // No NOTIFY: failures, and delays when warnings are configured (§4.1 leaves it to us).
  if (!notify?.length) return kind !== "SUCCESS";
  return notify.includes(kind);
}

export interface NoticeGroups {
  failed: Outcome[];
  delayed: Outcome[];
  relayed: Outcome[];
}

/** The outcomes that call for a failure, delay or success notification. */
export function noticeGroups(outcomes: Outcome[], now: number, schedule: Schedule): NoticeGroups {
  return {
    failed: outcomes.filter((x) => x.status === "failed" && wantsDsn(x.row, "FAILURE")),
    delayed: schedule.warnAfter > 0 ? outcomes.filter((x) => x.status === "deferred" && !x.row.warned && now - x.row.createdAt >= schedule.warnAfter && wantsDsn(x.row, "DELAY")) : [],
    relayed: outcomes.filter((x) => x.status === "delivered" && x.res.relayed && wantsDsn(x.row, "SUCCESS")),
  };
}

/** The per-recipient fields of a notification (RFC 3464 §2.3). */
export function dsnRecipients(xs: Outcome[], action: DsnRecipient["action"], now: number, schedule: Schedule): DsnRecipient[] {
  return xs.map((x) => ({
    address: x.row.recipient,
    orcpt: parseDsn(x.row).orcpt,
    action,
    status: x.res.status,
    diagnostic: x.why,
    remoteMta: x.res.remoteMta,
    lastAttempt: now,
    willRetryUntil: action === "delayed" ? x.row.createdAt + schedule.maxAge : undefined,
  }));
}

export interface Notice {
  msg: AcceptedMessage;
  prep: Prepared;
  id: string;
}

/** Write the outcomes (only rows still leased by `owner`), mark the warned rows, release
 *  the blob once every recipient is final, and commit the notices — one transaction. */
export async function persistOutcomes(tx: Tx, p: { store: Store; owner: string; now: number; outcomes: Outcome[]; warned: Set<Outcome>; notices: Notice[] }): Promise<void> {
  let final = false;
  for (const x of p.outcomes) {
    const done = x.status === "delivered" || x.status === "failed";
    const res = await tx.orm
      .update(spool)
      .set({
        // A row held while in flight (Spool.hold) stays held when this attempt failed for now.
        status: x.status === "deferred" ? sql`case when ${spool.status} = 'held' then 'held' else 'deferred' end` : x.status,
        nextAttempt: x.next,
        attempts: x.attempts,
        lastError: x.why.slice(0, 1000),
        leaseOwner: null,
        leaseUntil: null,
        updatedAt: p.now,
        ...(p.warned.has(x) ? { warned: true } : {}),
      })
      // Only while the lease is ours: after a takeover the new owner records.
      .where(and(eq(spool.id, x.row.id), eq(spool.leaseOwner, p.owner), inArray(spool.status, ["inflight", "held"])))
      .returning({ id: spool.id });
    if (done && res.length > 0) final = true;
  }
  const first = p.outcomes[0]?.row;
  if (final && first) await releaseIfDone(tx, first.msgId, first.blobId);
  for (const n of p.notices) await commitMessage(tx, p.store, n.msg, n.prep, n.id);
}

/** Log each outcome and tell the plugins (delivered, bounced, message.queued for notices
 *  going out); true when a notice was queued for remote delivery. */
export function reportOutcomes(log: Logger, hooks: Hooks, outcomes: Outcome[], notices: Notice[]): boolean {
  for (const x of outcomes) {
    if (x.status === "delivered") {
      log.info("delivered", { id: x.row.msgId, to: x.row.recipient, reply: x.res.reply, tls: x.res.tls });
      hooks.run("delivered", { id: x.row.msgId, recipient: x.row.recipient, reply: x.res.reply });
    } else if (x.status === "failed") {
      log.info("delivery failed", { id: x.row.msgId, to: x.row.recipient, err: x.why });
      hooks.run("bounced", { id: x.row.msgId, recipient: x.row.recipient, error: x.why });
    } else if (x.status === "deferred") {
      log.info("delivery deferred", { id: x.row.msgId, to: x.row.recipient, err: x.why, next: new Date(x.next).toISOString() });
    }
  }
  const queued = notices.filter((n) => n.msg.remote.length > 0);
  for (const n of queued) hooks.run("message.queued", { id: n.id, recipients: n.msg.remote.map((r) => r.address) });
  return queued.length > 0;
}
