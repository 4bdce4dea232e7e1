// The certificate manager: one certificate per name, served by SNI; a loop that orders
// missing certificates and renews due ones (one name failing never blocks the others),
// keeps the previous certificate until a new one is issued, and tells the listeners.
import type { Db } from "../../core/db/open.ts";
import type { Resolver } from "../../core/dns/index.ts";
import type { Leases, Logger, Tls, TlsCertificate } from "../../core/types.ts";
import type { ChallengeAnswer } from "./order.ts";
import { OrderError } from "./order-error.ts";
import { X509Certificate } from "node:crypto";
import { backoffMs, renewAt, SKIP_RETRY_MS } from "./renewal.ts";
import { selfCheck, type Probe } from "./selfcheck.ts";
import { loadCerts, loadStatuses, saveCert, saveStatus, takeRenewal, type NameStatus, type StoredCert } from "./store.ts";

export interface ManagerOptions {
  db: Db;
  /** The renewal job runs on one instance at a time (core.leases). */
  leases: Leases;
  log: Logger;
  tls: Tls;
  hostname: string;
  directory: string;
  caPem?: string;
  email?: string;
  challenge: "http-01" | "dns-01";
  answer: ChallengeAnswer;
  /** The names wanted now (hostname, extra names, mta-sts./autoconfig. of each domain). */
  names(): Promise<string[]>;
  selfCheck?: { resolver: Resolver; port: number; probe: Probe };
  /** How often the loop looks for due work and `tls renew` requests. */
  tickMs?: number;
}

export interface Manager {
  /** The certificate for a TLS servername (none: the host name's); undefined if none. */
  certificateFor(servername: string | undefined): { key: string; cert: string } | undefined;
  certificates(): TlsCertificate[];
  statuses(): Promise<NameStatus[]>;
  /** Order now, ignoring renewal times and backoff (all names when empty). */
  renew(names?: string[]): Promise<NameStatus[]>;
  start(): void;
  stop(): Promise<void>;
}

/** The renewal lease outlives a few ticks, so a stopped instance's job moves on soon. */
const LEASE_MS = 120_000;
const LEASE_NAME = "acme";

/** Orders at once (a slow CA answer for one name must not hold up the rest). */
const PARALLEL = 4;

function info(certPem: string): { notBefore: number; notAfter: number; issuer: string } {
  // Node's own X.509 parser: acme-client (~30 MB resident) stays unloaded until an order.
  const c = new X509Certificate(certPem);
  const cn = /(?:^|\n)CN=([^\n]*)/.exec(c.issuer)?.[1];
  return { notBefore: Date.parse(c.validFrom), notAfter: Date.parse(c.validTo), issuer: cn ?? "unknown" };
}

export async function createManager(o: ManagerOptions): Promise<Manager> {
  const certs: Map<string, StoredCert> = await loadCerts(o.db);
  const status = new Map<string, NameStatus>((await loadStatuses(o.db)).map((s) => [s.name, s]));
  let timer: ReturnType<typeof setTimeout> | undefined;
  let running: Promise<void> | undefined;
  let stopped = false;

  const statusOf = (name: string): NameStatus => status.get(name) ?? { name, state: "pending", failures: 0, updatedAt: Date.now() };
  async function setStatus(s: NameStatus): Promise<void> {
    s.updatedAt = Date.now();
    status.set(s.name, s);
    await saveStatus(o.db, s);
  }

  function due(name: string, now: number): boolean {
    const s = statusOf(name);
    if (s.nextAttemptAt && now < s.nextAttemptAt) return false;
    const c = certs.get(name);
    return !c || now >= (s.renewAt ?? 0);
  }

  /** One name: self-check, order, store. Returns true when a new certificate was issued. */
  async function process(name: string): Promise<boolean> {
    const s = statusOf(name);
    const now = Date.now();
    if (o.selfCheck) {
      const r = await selfCheck({ name, ...o.selfCheck });
      if (!r.ok) {
        o.log.warn("acme: skipping a name that does not reach this server", { name, reason: r.reason });
        await setStatus({ ...s, state: certs.has(name) ? s.state : "skipped", lastError: `self-check: ${r.reason}`, lastErrorAt: now, nextAttemptAt: now + SKIP_RETRY_MS });
        return false;
      }
    }
    const old = certs.get(name);
    // The key stays across renewals (DANE TLSA 3 1 1 pins it).
    const acme = await import("acme-client");
    const { orderCertificate } = await import("./order.ts");
    const keyPem = old?.keyPem ?? (await acme.crypto.createPrivateEcdsaKey()).toString();
    const started = performance.now();
    try {
      const certPem = await orderCertificate({ db: o.db, directory: o.directory, caPem: o.caPem, email: o.email, name, keyPem, challenge: o.challenge, answer: o.answer });
      const i = info(certPem);
      const stored: StoredCert = { name, keyPem, certPem, notAfter: i.notAfter, createdAt: Date.now() };
      await saveCert(o.db, stored);
      certs.set(name, stored);
      await setStatus({ name, state: "valid", issuer: i.issuer, notAfter: i.notAfter, renewAt: renewAt(i.notBefore, i.notAfter, certPem), failures: 0, updatedAt: 0 });
      o.log.info("acme: certificate issued", { name, issuer: i.issuer, notAfter: new Date(i.notAfter).toISOString(), ms: Math.round(performance.now() - started) });
      return true;
    } catch (err) {
      const e = err instanceof OrderError ? err : new OrderError((err as Error).message, false);
      const failures = s.failures + 1;
      const wait = backoffMs(failures, { retryAfterSec: e.retryAfter, permanent: e.permanent });
      await setStatus({
        ...s,
        // With a certificate still valid, it stays in use: the state says so.
        state: old ? s.state : "failed",
        failures,
        permanent: e.permanent,
        lastError: `${e.permanent ? "refused by the CA" : "temporary failure"}: ${e.message}`,
        lastErrorAt: Date.now(),
        nextAttemptAt: Date.now() + wait,
      });
      o.log.warn("acme: order failed", { name, permanent: e.permanent, problem: e.problemType, err: e.message, retryInSec: Math.round(wait / 1000) });
      return false;
    }
  }

  async function runNames(names: string[]): Promise<void> {
    for (let i = 0; i < names.length; i += PARALLEL) {
      const issued = await Promise.all(names.slice(i, i + PARALLEL).map((n) => process(n).catch((err: Error) => (o.log.error("acme: unexpected failure", { name: n, err: err.message }), false))));
      if (issued.some(Boolean)) o.tls.changed();
    }
  }

  /** Certificates another instance issued (shared database): take them over. */
  async function sync(): Promise<void> {
    const fresh = await loadCerts(o.db);
    let changed = false;
    for (const [name, c] of fresh) {
      if (certs.get(name)?.certPem === c.certPem) continue;
      certs.set(name, c);
      changed = true;
    }
    for (const s of await loadStatuses(o.db)) status.set(s.name, s);
    if (changed) o.tls.changed();
  }

  async function tick(): Promise<void> {
    await sync();
    if (!(await o.leases.hold(LEASE_NAME, LEASE_MS))) return;
    const wanted = await o.names();
    const forced = await takeRenewal(o.db).catch(() => undefined);
    const now = Date.now();
    const todo = wanted.filter((n) => (forced && (forced.length === 0 || forced.includes(n))) || due(n, now));
    if (todo.length) await runNames(todo);
  }

  function schedule(ms: number): void {
    if (stopped) return;
    timer = setTimeout(() => {
      running = tick()
        .catch((err: Error) => o.log.error("acme: renewal run failed", { err: err.message }))
        .finally(() => {
          running = undefined;
          schedule(o.tickMs ?? 15_000);
        });
    }, ms);
  }

  return {
    certificateFor(servername) {
      const c = certs.get(servername?.toLowerCase() ?? o.hostname) ?? certs.get(o.hostname);
      return c ? { key: c.keyPem, cert: c.certPem } : undefined;
    },
    certificates() {
      return [...certs.values()].map((c) => ({ names: [c.name], key: c.keyPem, cert: c.certPem }));
    },
    async statuses() {
      const wanted = await o.names();
      return [...new Set([...wanted, ...status.keys()])].sort().map((n) => statusOf(n));
    },
    async renew(names) {
      const wanted = await o.names();
      const todo = names?.length ? names : wanted;
      while (running) await running;
      await runNames(todo);
      return todo.map((n) => statusOf(n));
    },
    start() {
      // The first run waits a moment for the HTTP listener (bound right after the plugins'
      // setup) so the self-check and HTTP-01 can reach it.
      schedule(250);
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      if (running) await running;
      await o.leases.release(LEASE_NAME).catch(() => {});
    },
  };
}
