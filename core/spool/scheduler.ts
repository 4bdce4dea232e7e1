// The delivery scheduler: claims due spool rows under a lease, hands them to the
// delivery engine grouped by message and domain, and records each outcome.
//
// Durability (DESIGN.md "The spool"): `attempts` and `nextAttempt` are written in the
// same transaction that takes the lease, BEFORE the attempt; a crash leaves the row
// in flight with an expiring lease and a future nextAttempt, so it is retried (never
// lost, never in a tight loop). Leases carry the owner; a second instance on the same
// libSQL database takes only rows whose lease has expired, and live owners renew theirs.
import { and, asc, eq, inArray, lt, lte, or, sql } from "drizzle-orm";
import type { Db, Tx } from "../db/open.ts";
import { spool } from "../db/schema.ts";
import type { Address, Hooks, Logger, SmtpTxn } from "../types.ts";
import type { Store } from "../store/types.ts";
import type { Delivery, DeliveryJob, RecipientResult } from "../delivery/index.ts";
import type { AcceptedMessage } from "./types.ts";
import { FINAL, releaseIfDone } from "./admin.ts";
import { commitMessage, domainOf, newMsgId, prepareMessage, type Prepared } from "./accept.ts";
import { expired, nextAttemptAt, type Schedule } from "./backoff.ts";
import { buildDsn, type DsnRecipient } from "./dsn.ts";

type Row = typeof spool.$inferSelect;

interface RowDsn {
  ret?: "FULL" | "HDRS";
  envid?: string;
  notify?: string[];
  orcpt?: string;
}

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
  /** Idle poll interval (ms): other instances' accepts and retries come due meanwhile. */
  pollMs?: number;
}

export interface Scheduler {
  start(): void;
  /** Something was queued: look for due rows now. */
  kick(): void;
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
  const owner = `${o.hostname}#${process.pid}#${newMsgId()}`;
  const lease = Math.min(Math.max(schedule.retry[0]!, 1000), 300_000);
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

  const parseDsn = (r: Row): RowDsn => (r.dsn ? (JSON.parse(r.dsn) as RowDsn) : {});

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
          .where(inArray(spool.id, g.map((r) => r.id)));
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

  /** A notification for the envelope sender, unless it is the null sender, our own
   *  bounce, or the recipient asked for none (RFC 3461 §4.1 NOTIFY). */
  function wantsDsn(r: Row, kind: "FAILURE" | "DELAY" | "SUCCESS"): boolean {
    if (r.internal || r.mailFrom === "") return false;
    const notify = parseDsn(r).notify;
    // No NOTIFY: failures, and delays when warnings are configured (§4.1 leaves it to us).
    if (!notify?.length) return kind !== "SUCCESS";
    return notify.includes(kind);
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
    const route = await hooks.first("route", txn, rcpt);
    if (!("local" in route)) {
      if (route.kind === "defer") throw new Error(`cannot route the notice to ${to} now: ${route.reply.text}`);
      log.warn("delivery status notification dropped: its recipient does not route", { id: first.msgId, to, why: route.kind === "reject" ? route.reply.text : "no route" });
      return null;
    }
    msg.local.push(...route.local);
    msg.remote.push(...route.remote.map((r) => ({ address: r.address })));
    return { msg, prep: await prepareMessage(store, msg) };
  }

  async function record(rows: Row[], results: RecipientResult[]): Promise<void> {
    const now = Date.now();
    const byAddr = new Map(results.map((r) => [r.address, r]));
    type Outcome = { row: Row; res: RecipientResult; status: "delivered" | "failed" | "deferred" | "queued"; next: number; attempts: number; why: string };
    const outcomes: Outcome[] = [];
    for (const row of rows) {
      const res = byAddr.get(row.recipient) ?? { address: row.recipient, ok: false, permanent: false, reply: "no result", status: "4.0.0" };
      let status: Outcome["status"] = res.ok ? "delivered" : res.permanent ? "failed" : "deferred";
      let next = row.nextAttempt;
      let attempts = row.attempts;
      let why = res.reply;
      if (status === "deferred" && stopping) {
        // Shut down before or during the attempt: it does not count.
        status = "queued";
        next = now;
        attempts -= 1;
      } else if (status === "deferred" && expired(schedule, row.createdAt, now)) {
        status = "failed";
        why = `${res.reply} (gave up after ${row.attempts} attempts)`;
        res.status = res.status.startsWith("4") ? "4.4.7" : res.status;
      } else if (status === "deferred") {
        const answers = await hooks.all("deferred", { id: row.msgId, recipient: row.recipient, error: res.reply, attempts: row.attempts });
        const at = answers.find((a) => a && typeof a.retryAt === "number")?.retryAt;
        if (at !== undefined) next = at;
      }
      outcomes.push({ row, res, status, next, attempts, why });
    }

    const failed = outcomes.filter((x) => x.status === "failed" && wantsDsn(x.row, "FAILURE"));
    const delayed =
      schedule.warnAfter > 0
        ? outcomes.filter((x) => x.status === "deferred" && !x.row.warned && now - x.row.createdAt >= schedule.warnAfter && wantsDsn(x.row, "DELAY"))
        : [];
    const relayed = outcomes.filter((x) => x.status === "delivered" && x.res.relayed && wantsDsn(x.row, "SUCCESS"));
    const notice = async (xs: Outcome[], action: DsnRecipient["action"]) =>
      xs.length === 0
        ? null
        : prepareNotice(
            xs.map((x) => x.row),
            xs.map((x) => ({
              address: x.row.recipient,
              orcpt: parseDsn(x.row).orcpt,
              action,
              status: x.res.status,
              diagnostic: x.why,
              remoteMta: x.res.remoteMta,
              lastAttempt: now,
              willRetryUntil: action === "delayed" ? x.row.createdAt + schedule.maxAge : undefined,
            })),
          ).catch((e) => {
            log.error("could not prepare a delivery status notification", { id: xs[0]!.row.msgId, err: (e as Error).message });
            throw e;
          });
    type Notice = { msg: AcceptedMessage; prep: Prepared; id: string };
    const made = (n: { msg: AcceptedMessage; prep: Prepared } | null): Notice | null => (n ? { ...n, id: newMsgId() } : null);
    let bounce: Notice | null = null;
    try {
      bounce = made(await notice(failed, "failed"));
    } catch {
      // Without its bounce a failure is not final yet: keep it deferred, try again later.
      for (const x of failed) x.status = "deferred";
    }
    // Delay warnings and success reports are informational: if one cannot be made, go on.
    const warning = made(await notice(delayed, "delayed").catch(() => null));
    const success = made(await notice(relayed, "relayed").catch(() => null));
    let notices = [bounce, warning, success].filter((n): n is Notice => n !== null);

    const persist = () =>
      db.write(async (tx: Tx) => {
        let final = false;
        for (const x of outcomes) {
          const done = x.status === "delivered" || x.status === "failed";
          const res = await tx.orm
            .update(spool)
            .set({
              status: x.status,
              nextAttempt: x.next,
              attempts: x.attempts,
              lastError: x.why.slice(0, 1000),
              leaseOwner: null,
              leaseUntil: null,
              updatedAt: now,
              ...(warning && notices.includes(warning) && delayed.includes(x) ? { warned: true } : {}),
            })
            // Only while the lease is ours: after a takeover the new owner records.
            .where(and(eq(spool.id, x.row.id), eq(spool.leaseOwner, owner), eq(spool.status, "inflight")))
            .returning({ id: spool.id });
          if (done && res.length > 0) final = true;
        }
        if (final) await releaseIfDone(tx, rows[0]!.msgId, rows[0]!.blobId);
        for (const n of notices) await commitMessage(tx, store, n.msg, n.prep, n.id);
      });
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

    for (const x of outcomes) {
      if (x.status === "delivered") {
        log.info("delivered", { id: x.row.msgId, to: x.row.recipient, reply: x.res.reply, tls: x.res.tls });
        hooks.notify("delivered", { id: x.row.msgId, recipient: x.row.recipient, reply: x.res.reply });
      } else if (x.status === "failed") {
        log.info("delivery failed", { id: x.row.msgId, to: x.row.recipient, err: x.why });
        hooks.notify("bounced", { id: x.row.msgId, recipient: x.row.recipient, error: x.why });
      } else if (x.status === "deferred") {
        log.info("delivery deferred", { id: x.row.msgId, to: x.row.recipient, err: x.why, next: new Date(x.next).toISOString() });
      }
    }
    const queued = notices.filter((n) => n.msg.remote.length > 0);
    for (const n of queued) hooks.notify("message.queued", { id: n.id, recipients: n.msg.remote.map((r) => r.address) });
    if (queued.length) kick();
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

  return {
    start() {
      if (running) return;
      running = true;
      heartbeat = setInterval(() => {
        if (inflight === 0) return;
        void db
          .write((tx) =>
            tx.orm
              .update(spool)
              .set({ leaseUntil: Date.now() + lease })
              .where(and(eq(spool.leaseOwner, owner), eq(spool.status, "inflight"))),
          )
          .catch((e) => log.warn("lease renewal failed", { err: (e as Error).message }));
      }, Math.max(lease / 3, 300));
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
