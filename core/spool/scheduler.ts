// The delivery scheduler: claims due spool rows under a lease, hands them to the
// delivery engine grouped by message and domain, and records each outcome.
//
// Durability (DESIGN.md "The spool"): `attempts` and `nextAttempt` are written in the
// same transaction that takes the lease, BEFORE the attempt; a crash leaves the row
// in flight with an expiring lease and a future nextAttempt, so it is retried (never
// lost, never in a tight loop). Leases carry the owner; a second instance on the same
// libSQL database takes only rows whose lease has expired, and live owners renew theirs.
import { and, asc, eq, inArray, lt, lte, or, sql } from "drizzle-orm";
import type { Db } from "../db/open.ts";
import { spool } from "../db/schema.ts";
import type { Address, Hooks, Logger, SmtpTxn } from "../types.ts";
import type { Store } from "../store/types.ts";
import type { Delivery, DeliveryJob, RecipientResult } from "../delivery/index.ts";
import type { AcceptedMessage } from "./types.ts";
import { FINAL } from "./admin.ts";
import { domainOf, newMsgId, prepareMessage, type Prepared } from "./accept.ts";
import { nextAttemptAt, type Schedule } from "./backoff.ts";
import { buildDsn, type DsnRecipient } from "./dsn.ts";
import { askRetry, classify, dsnRecipients, noticeGroups, parseDsn, persistOutcomes, reportOutcomes, type Notice, type Outcome, type Row } from "./record.ts";

export interface SchedulerOptions {
  db: Db;
  store: Store;
  hooks: Hooks;
  log: Logger;
  delivery: Delivery;
  schedule: Schedule;
  hostname: string;
  readBlob(id: string): Promise<Uint8Array>;
  /** Rows held in memory at most (claimed, not finished). */
  maxInflight?: number;
  /** This instance's name in lease rows (core.leases.owner); default: a new one. */
  owner?: string;
  /** Lease of claimed rows (ms); default: the first retry delay, 1 s to 5 min. */
  leaseMs?: number;
  /** Idle poll interval (ms): other instances' accepts and retries come due meanwhile. */
  pollMs?: number;
}

export interface Scheduler {
  start(): void;
  /** Something was queued: look for due rows now. */
  kick(): void;
  /** Give up on a message's waiting (or held) recipients now (the admin's "bounce"): each fails with
   *  `reason`, the sender gets the usual failure notice. Rows in flight are left alone. */
  bounce(msgId: string, reason: string): Promise<number>;
  stop(): Promise<void>;
}

/** RFC 5321 §4.5.3.1.8: at least 100 recipients per transaction must be accepted. */
const MAX_RCPTS = 100;
const PURGE_EVERY = 10 * 60_000;

function groupBy<T>(items: T[], key: (t: T) => string): T[][] {
  const m = new Map<string, T[]>();
  for (const t of items) {
    const k = key(t);
    const g = m.get(k);
    if (g) g.push(t);
    else m.set(k, [t]);
  }
  return [...m.values()];
}

export function createScheduler(o: SchedulerOptions): Scheduler {
  const { db, store, hooks, log, delivery, schedule } = o;
  const owner = o.owner ?? `${o.hostname}#${process.pid}#${newMsgId()}`;
  const lease = o.leaseMs ?? Math.min(Math.max(schedule.retry[0]!, 1000), 300_000);
  const maxInflight = o.maxInflight ?? 1000;
  const pollMs = o.pollMs ?? 1000;
  let inflight = 0;
  let running = false;
  let stopping = false;
  let claiming = false;
  let again = false;
  /** The last claim filled all the room: more rows may be due. */
  let saturated = false;
  let timer: ReturnType<typeof setTimeout> | null = null;
  let heartbeat: ReturnType<typeof setInterval> | null = null;
  const jobs = new Set<Promise<void>>();

  async function claim(limit: number): Promise<Row[]> {
    const now = Date.now();
    return db.write(async (tx) => {
      const due = await tx.orm
        .select()
        .from(spool)
        .where(
          or(
            and(inArray(spool.status, ["queued", "deferred"]), lte(spool.nextAttempt, now)),
            // An instance died in the middle of a delivery: its lease ran out.
            and(eq(spool.status, "inflight"), lt(spool.leaseUntil, now), lte(spool.nextAttempt, now)),
          ),
        )
        .orderBy(asc(spool.nextAttempt))
        .limit(limit);
      for (const r of due) {
        r.attempts += 1;
        r.nextAttempt = nextAttemptAt(schedule, r.attempts, r.createdAt, now);
        r.status = "inflight";
        r.leaseOwner = owner;
        r.leaseUntil = now + lease;
      }
      // One UPDATE per distinct (attempts, nextAttempt): usually one or two statements.
      for (const g of groupBy(due, (r) => `${r.attempts}:${r.nextAttempt}`)) {
        await tx.orm
          .update(spool)
          .set({ status: "inflight", leaseOwner: owner, leaseUntil: now + lease, attempts: g[0]!.attempts, nextAttempt: g[0]!.nextAttempt, updatedAt: now })
          .where(
            inArray(
              spool.id,
              g.map((r) => r.id),
            ),
          );
      }
      return due;
    });
  }

  /** One SMTP transaction per message, destination domain and sender, ≤ MAX_RCPTS. */
  function jobsOf(rows: Row[]): Row[][] {
    const out: Row[][] = [];
    for (const g of groupBy(rows, (r) => `${r.msgId}\0${r.domain}\0${r.mailFrom}`)) for (let i = 0; i < g.length; i += MAX_RCPTS) out.push(g.slice(i, i + MAX_RCPTS));
    return out;
  }

  const load = async (r: Row): Promise<Uint8Array> => {
    const blob = await o.readBlob(r.blobId);
    return r.prefix ? Buffer.concat([Buffer.from(r.prefix), blob]) : blob;
  };

  async function runJob(rows: Row[]): Promise<void> {
    const first = rows[0]!;
    const dsn = parseDsn(first);
    const job: DeliveryJob = {
      id: first.msgId,
      domain: first.domain,
      mailFrom: first.mailFrom,
      recipients: rows.map((r) => {
        const d = parseDsn(r);
        return { address: r.recipient, notify: d.notify, orcpt: d.orcpt };
      }),
      dsn: dsn.ret || dsn.envid ? { ret: dsn.ret, envid: dsn.envid } : undefined,
      load: () => load(first),
    };
    const results = await delivery.deliver(job);
    await record(rows, results);
  }

  async function prepareNotice(rows: Row[], recipients: DsnRecipient[]): Promise<{ msg: AcceptedMessage; prep: Prepared } | null> {
    const first = rows[0]!;
    const to = first.mailFrom;
    const dsn = parseDsn(first);
    // RET governs failure reports; a success report carries the headers only.
    const ret = recipients.every((r) => r.action === "relayed") ? "HDRS" : dsn.ret;
    const raw = buildDsn({
      reportingMta: o.hostname,
      to,
      queueId: first.msgId,
      envid: dsn.envid,
      arrival: first.createdAt,
      recipients,
      // A lost blob must not block the report: it then goes out without the original.
      original: await load(first).catch(() => new Uint8Array(0)),
      ret,
    });
    const msg: AcceptedMessage = { raw, prefix: [], mailFrom: "", local: [], remote: [], internal: true };
    // The sender may be an alias, a +tag or an SRS address of ours: route it as mail to it
    // would be routed (the aliases plugin reverses SRS), from the null sender.
    const at = to.lastIndexOf("@");
    const rcpt: Address = { address: to, local: to.slice(0, at), domain: domainOf(to), params: {} };
    const txn = { id: first.msgId, helo: o.hostname, mailFrom: { address: "", local: "", domain: "", params: {} }, rcpts: [rcpt], state: {}, internal: true } as unknown as SmtpTxn;
    const route = await hooks.run("route", txn, rcpt);
    if (route.kind !== "route") {
      if (route.kind === "defer") throw new Error(`cannot route the notice to ${to} now: ${route.reply.text}`);
      log.warn("delivery status notification dropped: its recipient does not route", { id: first.msgId, to, why: route.kind === "reject" ? route.reply.text : "no route" });
      return null;
    }
    msg.local.push(...route.local);
    msg.remote.push(...route.remote.map((r) => ({ address: r.address })));
    return { msg, prep: await prepareMessage(store, msg) };
  }

  /** The results of one attempt: classify, build the notices, persist, report (record.ts). */
  async function record(rows: Row[], results: RecipientResult[]): Promise<void> {
    const now = Date.now();
    const outcomes = classify(rows, results, { now, stopping, schedule });
    await askRetry(hooks, outcomes);
    const { failed, delayed, relayed } = noticeGroups(outcomes, now, schedule);
    const notice = async (xs: Outcome[], action: DsnRecipient["action"]): Promise<Notice | null> => {
      if (xs.length === 0) return null;
      try {
        const n = await prepareNotice(
          xs.map((x) => x.row),
          dsnRecipients(xs, action, now, schedule),
        );
        return n ? { ...n, id: newMsgId() } : null;
      } catch (e) {
        log.error("could not prepare a delivery status notification", { id: xs[0]!.row.msgId, err: (e as Error).message });
        throw e;
      }
    };
    let bounce: Notice | null = null;
    try {
      bounce = await notice(failed, "failed");
    } catch {
      // Without its bounce a failure is not final yet: keep it deferred, try again later.
      for (const x of failed) x.status = "deferred";
    }
    // Delay warnings and success reports are informational: if one cannot be made, go on.
    const warning = await notice(delayed, "delayed").catch(() => null);
    const success = await notice(relayed, "relayed").catch(() => null);
    let notices = [bounce, warning, success].filter((n): n is Notice => n !== null);
    const persist = () => db.write((tx) => persistOutcomes(tx, { store, owner, now, outcomes, warned: new Set(warning && notices.includes(warning) ? delayed : []), notices }));
    try {
      await persist();
    } catch (e) {
      // A notice could not be stored (e.g. the sender's mailbox is gone): record the
      // outcome anyway, failures as deferred so that the bounce is attempted again.
      log.error("could not store a delivery status notification", { id: rows[0]!.msgId, err: (e as Error).message });
      if (bounce) for (const x of failed) x.status = "deferred";
      notices = [];
      await persist();
    }
    if (reportOutcomes(log, hooks, outcomes, notices)) kick();
  }

  /** Final rows are kept for `queue show` for maxAge, then removed. */
  let lastPurge = 0;
  async function purge(now: number): Promise<void> {
    if (now - lastPurge < PURGE_EVERY) return;
    lastPurge = now;
    await db.write((tx) => tx.orm.delete(spool).where(and(inArray(spool.status, FINAL), lt(spool.updatedAt, now - schedule.maxAge))));
  }

  async function tick(): Promise<void> {
    if (!running || stopping) return;
    if (claiming) {
      again = true;
      return;
    }
    claiming = true;
    if (timer) clearTimeout(timer);
    timer = null;
    try {
      await purge(Date.now());
      do {
        again = false;
        const room = maxInflight - inflight;
        if (room <= 0) break;
        const rows = await claim(room);
        for (const g of jobsOf(rows)) {
          inflight += g.length;
          const p: Promise<void> = runJob(g)
            .catch((e) => log.error("delivery job failed", { id: g[0]!.msgId, err: (e as Error).message }))
            .finally(() => {
              inflight -= g.length;
              jobs.delete(p);
              // Room again after a full claim: more may be due.
              if (saturated && inflight < maxInflight / 2) kick();
            });
          jobs.add(p);
        }
        saturated = rows.length === room;
      } while (again && !stopping && inflight < maxInflight);
    } catch (e) {
      log.error("spool claim failed", { err: (e as Error).message });
    } finally {
      claiming = false;
      if (running && !stopping) timer = setTimeout(() => void tick(), pollMs);
    }
  }

  function kick(): void {
    if (!running || stopping) return;
    if (claiming) again = true;
    else queueMicrotask(() => void tick());
  }

  async function bounce(msgId: string, reason: string): Promise<number> {
    const now = Date.now();
    // Take the waiting rows under our lease, as a claim would, so record() may persist them.
    const rows = await db.write(async (tx) => {
      const due = await tx.orm
        .select()
        .from(spool)
        .where(and(eq(spool.msgId, msgId), inArray(spool.status, ["queued", "deferred", "held"])));
      if (due.length === 0) return due;
      await tx.orm
        .update(spool)
        .set({ status: "inflight", leaseOwner: owner, leaseUntil: now + lease, updatedAt: now })
        .where(
          inArray(
            spool.id,
            due.map((r) => r.id),
          ),
        );
      return due.map((r) => ({ ...r, status: "inflight", leaseOwner: owner, leaseUntil: now + lease }));
    });
    if (rows.length === 0) return 0;
    await record(
      rows,
      rows.map((r) => ({ address: r.recipient, ok: false, permanent: true, reply: reason, status: "5.0.0" })),
    );
    return rows.length;
  }

  return {
    bounce,
    start() {
      if (running) return;
      running = true;
      heartbeat = setInterval(
        () => {
          if (inflight === 0) return;
          void db
            .write((tx) =>
              tx.orm
                .update(spool)
                .set({ leaseUntil: Date.now() + lease })
                .where(and(eq(spool.leaseOwner, owner), eq(spool.status, "inflight"))),
            )
            .catch((e) => log.warn("lease renewal failed", { err: (e as Error).message }));
        },
        Math.max(lease / 3, 300),
      );
      void tick();
    },
    kick,
    async stop() {
      if (!running) return;
      stopping = true;
      if (timer) clearTimeout(timer);
      if (heartbeat) clearInterval(heartbeat);
      while (claiming) await Bun.sleep(5);
      await delivery.close();
      await Promise.allSettled([...jobs]);
      // Anything still leased by us (a job that did not record): due again now.
      await db
        .write((tx) =>
          tx.orm
            .update(spool)
            .set({ status: "queued", leaseOwner: null, leaseUntil: null, nextAttempt: Date.now(), attempts: sql`max(${spool.attempts} - 1, 0)` })
            .where(and(eq(spool.leaseOwner, owner), eq(spool.status, "inflight"))),
        )
        .catch(() => {});
      running = false;
    },
  };
}
