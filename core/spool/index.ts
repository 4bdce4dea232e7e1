// The spool: durable accept, queue admin, and the delivery scheduler (serve only).
import { readFileSync } from "node:fs";
import type { Db } from "../db/open.ts";
import type { Config } from "../config.ts";
import type { Hooks, Logger } from "../types.ts";
import type { BlobStore, Store } from "../store/types.ts";
import type { AcceptedMessage, Spool } from "./types.ts";
import { acceptMessage } from "./accept.ts";
import { messagesReceived } from "../metrics.ts";
import { deleteMessage, getMessage, holdMessages, listQueue, releaseMessages, retryMessage } from "./admin.ts";
import { scheduleFrom } from "./backoff.ts";
import { createScheduler, type Scheduler } from "./scheduler.ts";
import { createDelivery } from "../delivery/index.ts";
import { resolverFromConfig, type Resolver } from "../dns/index.ts";
import type { SmtpTimeouts } from "../delivery/smtp-client.ts";
import { createFsBlobStore } from "../store/blobs.ts";
import { dirname, join } from "node:path";

export interface SpoolOptions {
  db: Db;
  store: Store;
  config: Config;
  log: Logger;
  hooks: Hooks;
  /** EHLO name and bounce sender host; config.hostname when absent. */
  hostname?: string;
  /** Tests: a resolver, SMTP timeouts, a poll interval. */
  resolver?: Resolver;
  timeouts?: Partial<SmtpTimeouts>;
  pollMs?: number;
  /** This instance's name in lease rows (core.leases.owner). */
  owner?: string;
  /** Other instances or processes claim rows of this database too (cluster.leaseSeconds
   *  applies); default: only on a remote database. */
  clustered?: boolean;
}

export function createSpool(opts: SpoolOptions): Spool {
  const { db, store, hooks, config, log } = opts;
  const hostname = opts.hostname ?? config.hostname;
  let scheduler: Scheduler | null = null;

  const readBlob = (id: string): Promise<Uint8Array> => store.blobs.get(id);

  return {
    async accept(msg: AcceptedMessage) {
      const { id } = await acceptMessage(db, store, msg);
      messagesReceived.inc({ destination: msg.remote.length === 0 ? "local" : msg.local.length === 0 ? "remote" : "mixed" });
      if (msg.remote.length > 0) {
        hooks.run("message.queued", { id, recipients: msg.remote.map((r) => r.address) });
        scheduler?.kick();
      }
      return { id };
    },
    list: () => listQueue(db),
    get: (id) => getMessage(db, id),
    async retry(id) {
      const n = await retryMessage(db, id);
      scheduler?.kick();
      return n;
    },
    delete: (id) => deleteMessage(db, id),
    hold: (mailFrom) => holdMessages(db, mailFrom),
    async release(ids) {
      const n = await releaseMessages(db, ids);
      scheduler?.kick();
      return n;
    },
    async bounce(id) {
      if (!scheduler) throw new Error("bouncing needs the running server (its scheduler sends the notice)");
      return scheduler.bounce(id, `Returned by the postmaster of ${hostname}: delivery was given up by hand`);
    },
    start() {
      if (scheduler) return;
      const dlog = log.child({ part: "delivery" });
      const delivery = createDelivery({
        config,
        hooks,
        log: dlog,
        resolver: opts.resolver ?? resolverFromConfig(config),
        hostname,
        timeouts: opts.timeouts,
        ca: config.delivery.caFile ? [readFileSync(config.delivery.caFile, "utf8")] : undefined,
      });
      scheduler = createScheduler({
        db,
        store,
        hooks,
        log: dlog,
        delivery,
        schedule: scheduleFrom(config),
        hostname,
        readBlob,
        pollMs: opts.pollMs,
        owner: opts.owner,
        leaseMs: (opts.clustered ?? !db.local) ? config.cluster.leaseSeconds * 1000 : undefined,
      });
      scheduler.start();
    },
    async stop() {
      const s = scheduler;
      scheduler = null;
      await s?.stop();
    },
  };
}
