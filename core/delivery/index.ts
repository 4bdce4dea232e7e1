// Remote delivery: jobs (one message, recipients of one domain) are queued per
// destination; each destination gets up to `delivery.perDomain` connections, all of
// them at most `delivery.concurrency`; a connection delivers job after job (reuse) and
// stays open briefly for more. Hosts come from the `nextHop` hook (smarthost, MTA-STS)
// or the MX records (mx.ts); every address of every host is tried before deferring.
import type { Config } from "../config.ts";
import type { Hooks, Logger, NextHop, OutgoingMessage } from "../types.ts";
import type { Resolver } from "../dns/index.ts";
import { connectSmtp, DeliveryError, TlsFailure, type SmtpClient, type SmtpTimeouts } from "./smtp-client.ts";
import { hostAddresses, mxHops, orderHops, RouteError } from "./mx.ts";
import { relayApplies, relayHops, relaySpec } from "./relay.ts";

export interface DeliveryJob {
  /** Spool message id. */
  id: string;
  domain: string;
  mailFrom: string;
  recipients: { address: string; notify?: string[]; orcpt?: string }[];
  dsn?: { ret?: "FULL" | "HDRS"; envid?: string };
  /** The message as stored (our prefix + blob). */
  load(): Promise<Uint8Array>;
}

export interface RecipientResult {
  address: string;
  ok: boolean;
  /** Final failure (5xx or a permanent local decision); else deferred. */
  permanent: boolean;
  /** The reply or error, for logs, lastError and the DSN's Diagnostic-Code. */
  reply: string;
  /** RFC 3463 status for the DSN. */
  status: string;
  /** The host that gave the reply (DSN Remote-MTA). */
  remoteMta?: string;
  /** Transport security of the delivery: none, TLS with an unverified or a verified certificate. */
  tls?: "none" | "unverified" | "verified";
  /** Delivered to a host without the DSN extension: a requested success notice is ours
   *  to send ("relayed", RFC 3461 §5.2.2). */
  relayed?: boolean;
}

export interface Delivery {
  /** Never rejects: every recipient gets a result. */
  deliver(job: DeliveryJob): Promise<RecipientResult[]>;
  close(): Promise<void>;
}

export interface DeliveryOptions {
  config: Config;
  hooks: Hooks;
  log: Logger;
  resolver: Resolver;
  /** EHLO name. */
  hostname: string;
  timeouts?: Partial<SmtpTimeouts>;
  /** Extra CA certificates (PEM) trusted when a hop needs a verified certificate. */
  ca?: string[];
  /** How long a connection waits for another job to the same destination (ms). */
  idleMs?: number;
}

interface Pending {
  job: DeliveryJob;
  /** The message, loaded once (nextHop and deliver.remote.before see it). */
  msg: OutgoingMessage;
  resolve(r: RecipientResult[]): void;
  /** Already retried once on a fresh connection after a reused one failed. */
  retried?: boolean;
}

interface Destination {
  key: string;
  domain: string;
  /** From the nextHop hook; undefined = MX lookup. */
  hops?: NextHop[];
  queue: Pending[];
  active: number;
  /** Idle workers waiting for a job (null = go away). */
  waiters: ((p: Pending | null) => void)[];
  resolved?: { hops: NextHop[]; at: number };
}

const HOPS_TTL = 60_000;

/** The enhanced status of a reply, or one derived from its basic code (RFC 3463 §3). */
export function statusOf(reply: string, permanent: boolean): string {
  const m = /^(\d)\d\d(?: ([245]\.\d{1,3}\.\d{1,3}))?/.exec(reply);
  if (m?.[2]) return m[2];
  if (m) return `${m[1]}.0.0`;
  return permanent ? "5.0.0" : "4.4.1";
}

export function createDelivery(opts: DeliveryOptions): Delivery {
  const { config, hooks, log, resolver } = opts;
  const perDomain = config.delivery.perDomain;
  const concurrency = config.delivery.concurrency;
  const idleMs = opts.idleMs ?? 2000;
  const dests = new Map<string, Destination>();
  /** Addresses whose STARTTLS handshake failed: plaintext next time (opportunistic TLS). */
  const noTls = new Set<string>();
  let active = 0;
  let closed = false;
  const shutdown = new AbortController();

  const failAll = (job: DeliveryJob, e: unknown): RecipientResult[] => {
    const permanent = e instanceof DeliveryError && e.permanent && !e.connection;
    const msg = (e as Error).message ?? String(e);
    const status = e instanceof RouteError ? e.status : permanent ? "5.0.0" : "4.4.1";
    return job.recipients.map((r) => ({ address: r.address, ok: false, permanent, reply: msg, status }));
  };

  async function hopsFor(d: Destination): Promise<NextHop[]> {
    if (d.hops) return d.hops;
    if (d.resolved && Date.now() - d.resolved.at < HOPS_TTL) return d.resolved.hops;
    const hops = await mxHops(d.domain, resolver);
    d.resolved = { hops, at: Date.now() };
    return hops;
  }

  /** RFC 5321 §5.1: each host in order, each of its addresses, before giving up. */
  async function open(d: Destination): Promise<SmtpClient> {
    const hops = await hopsFor(d);
    const errors: string[] = [];
    for (const hop of hops) {
      const { addresses, temporary } = hop.connect ? { addresses: ["link"], temporary: undefined } : await hostAddresses(hop.host, resolver);
      if (addresses.length === 0) errors.push(`${hop.host}: ${temporary ?? "no address"}`);
      for (const address of addresses) {
        const port = hop.port ?? config.delivery.port;
        const tryTls = hop.requireTls || hop.verifyTls || hop.implicitTls || hop.tlsa?.length ? "required" : noTls.has(`${address}:${port}`) ? "none" : "opportunistic";
        const attempt = (tls: "opportunistic" | "required" | "none") =>
          connectSmtp({
            address,
            port,
            hostname: hop.host,
            helo: opts.hostname,
            tls,
            verifyTls: hop.verifyTls,
            tlsa: hop.tlsa,
            ca: hop.ca ?? opts.ca,
            implicitTls: hop.implicitTls,
            auth: hop.auth,
            socket: hop.connect,
            timeouts: opts.timeouts,
            log,
            signal: shutdown.signal,
          });
        try {
          return await attempt(tryTls);
        } catch (e) {
          if (e instanceof TlsFailure && tryTls === "opportunistic") {
            // Opportunistic TLS (RFC 3207 §4.1 leaves it to policy): a broken handshake
            // falls back to plaintext rather than bouncing or deferring forever.
            noTls.add(`${address}:${port}`);
            log.warn("STARTTLS failed, retrying without TLS", { host: hop.host, address, err: e.message });
            try {
              return await attempt("none");
            } catch (e2) {
              errors.push((e2 as Error).message);
              continue;
            }
          }
          errors.push((e as Error).message);
        }
      }
    }
    const what = d.key.startsWith("relay|") ? `the relay ${hops[0]!.host} did not take the connection` : `no host of ${d.domain} took the connection`;
    throw new DeliveryError(`${what}: ${errors.join("; ") || "no hosts"}`, false, undefined, true);
  }

  function fromDomain(raw: Uint8Array, mailFrom: string): string {
    const head = Buffer.from(raw.subarray(0, Math.min(raw.length, 64 * 1024))).toString("latin1");
    const end = head.search(/\r?\n\r?\n/);
    const m = /^from:[^\r\n]*?([^\s<@"]+)@([^\s>,;"]+)/im.exec(end >= 0 ? head.slice(0, end) : head);
    return (m?.[2] ?? mailFrom.split("@")[1] ?? "").toLowerCase();
  }

  async function outgoing(job: DeliveryJob): Promise<OutgoingMessage> {
    const raw = await job.load();
    return { id: job.id, mailFrom: job.mailFrom, recipients: job.recipients.map((r) => r.address), domain: job.domain, fromDomain: fromDomain(raw, job.mailFrom), raw };
  }

  async function run(client: SmtpClient, job: DeliveryJob, out: OutgoingMessage): Promise<RecipientResult[]> {
    const { raw } = out;
    // deliver.remote.before: headers go on top (DKIM-Signature, ARC-*).
    const added = (await hooks.run("deliver.remote.before", out)).flatMap((r) => (r?.kind === "headers" ? r.headers : []));
    const parts = added.length ? [Buffer.from(added.map((h) => (h.endsWith("\r\n") ? h : h + "\r\n")).join("")), raw] : [raw];
    const res = await client.send({ mailFrom: job.mailFrom, recipients: job.recipients, dsn: job.dsn }, parts);
    const relayed = !client.extensions.has("DSN");
    const tls = client.secure ? (client.verified ? "verified" : "unverified") : "none";
    return res.recipients.map((r) => ({ ...r, status: statusOf(r.reply, r.permanent), remoteMta: client.hostname, tls, ...(r.ok && relayed && { relayed }) }));
  }

  function take(d: Destination, ms: number): Promise<Pending | null> {
    const p = d.queue.shift();
    if (p || ms <= 0 || closed) return Promise.resolve(p ?? null);
    return new Promise((resolve) => {
      const w = (x: Pending | null) => {
        clearTimeout(timer);
        resolve(x);
      };
      const timer = setTimeout(() => {
        d.waiters.splice(d.waiters.indexOf(w), 1);
        resolve(null);
      }, ms);
      d.waiters.push(w);
    });
  }

  async function worker(d: Destination, first: Pending): Promise<void> {
    let client: SmtpClient | null = null;
    let sent = 0;
    let p: Pending | null = first;
    try {
      while (p) {
        if (!client || !client.usable) {
          sent = 0;
          try {
            client = await open(d);
          } catch (e) {
            // No host answered: this job and everything queued for the destination wait.
            client = null;
            p.resolve(failAll(p.job, e));
            for (const q of d.queue.splice(0)) q.resolve(failAll(q.job, e));
            log.info("destination unreachable", { domain: d.domain, err: (e as Error).message });
            break;
          }
        }
        try {
          p.resolve(await run(client, p.job, p.msg));
          sent++;
        } catch (e) {
          if (sent > 0 && !p.retried && e instanceof DeliveryError) {
            // A reused connection the peer had dropped: once more on a fresh one.
            p.retried = true;
            client.close();
            continue;
          }
          p.resolve(failAll(p.job, e));
        }
        p = await take(d, client.usable ? idleMs : 0);
      }
    } finally {
      if (client) {
        void client.quit();
      }
      d.active--;
      active--;
      if (d.active === 0 && d.queue.length === 0) dests.delete(d.key);
      pump();
    }
  }

  function pump(): void {
    for (const d of dests.values()) {
      // A held connection (NextHop.connect, an ODMR link) is one session: one worker takes
      // the destination's messages over it one after another.
      const limit = d.hops?.[0]?.connect ? 1 : perDomain;
      while (d.queue.length > 0 && d.active < limit && active < concurrency && !closed) {
        d.active++;
        active++;
        void worker(d, d.queue.shift()!);
      }
    }
    // Slots all taken while work waits elsewhere: idle connections make room.
    if (active >= concurrency && [...dests.values()].some((d) => d.queue.length > 0)) {
      for (const d of dests.values()) for (const w of d.waiters.splice(0)) w(null);
    }
  }

  return {
    async deliver(job) {
      if (closed) return failAll(job, new DeliveryError("shutting down", false));
      let hops: NextHop[] | undefined;
      let msg: OutgoingMessage;
      // nextHop decides by destination (smarthost, MTA-STS) and gets the real message. A
      // configured relay comes first: the final destination's policies are then the relay's
      // business.
      try {
        msg = await outgoing(job);
        const relay = relaySpec(config.delivery.relay);
        if (relay && relayApplies(config.delivery.relay, job.mailFrom)) hops = relayHops(relay);
        const r = hops ? undefined : await hooks.run("nextHop", msg, job.domain);
        if (r?.kind === "hops" && r.hops.length > 0) hops = orderHops(r.hops);
        else if (r?.kind === "defer") return failAll(job, new DeliveryError(r.reply.text, false));
      } catch (e) {
        return failAll(job, e);
      }
      // close() may have run while the message loaded: nothing would take it from a queue.
      if (closed) return failAll(job, new DeliveryError("shutting down", false));
      // One destination per relay (its connections carry mail for every domain), per hop list, or per domain.
      const key = hops ? (hops[0]!.auth || hops[0]!.implicitTls ? `relay|${hops[0]!.host}:${hops[0]!.port}` : `${job.domain}|${JSON.stringify(hops)}`) : job.domain;
      let d = dests.get(key);
      if (!d) dests.set(key, (d = { key, domain: job.domain, hops, queue: [], active: 0, waiters: [] }));
      const dest = d;
      return new Promise<RecipientResult[]>((resolve) => {
        const p: Pending = { job, msg, resolve };
        const w = dest.waiters.shift();
        if (w) w(p);
        else {
          dest.queue.push(p);
          pump();
        }
      });
    },
    async close() {
      closed = true;
      shutdown.abort();
      for (const d of dests.values()) {
        for (const w of d.waiters.splice(0)) w(null);
        for (const p of d.queue.splice(0)) p.resolve(failAll(p.job, new DeliveryError("shutting down", false)));
      }
      const until = Date.now() + 5000;
      while (active > 0 && Date.now() < until) await Bun.sleep(10);
    },
  };
}
