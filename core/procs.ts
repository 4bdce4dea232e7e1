// Several processes serving one data directory (DESIGN.md "Several processes"): with
// listen.processes > 1 the `serve` process (the primary) starts N−1 workers — the same
// executable and arguments, marked by KOTAKPOS_WORKER — which bind the same protocol ports
// with SO_REUSEPORT, so the kernel spreads connections over them and each JS main thread
// gets its share of sessions. They meet in the database as the instances of a cluster do.
// The primary restarts a worker that dies (with backoff), passes SIGHUP/SIGTERM/SIGINT on,
// and waits for them when it stops; a worker stops by itself when its primary is gone
// (the IPC channel closes even on kill -9).
import { availableParallelism } from "node:os";
import type { Logger } from "./types.ts";

/** "auto" runs one process per CPU, but no more than this. */
export const MAX_AUTO_PROCESSES = 4;

/** The number of serving processes a listen.processes setting asks for. */
export function processCount(setting: number | "auto", cpus: number = availableParallelism()): number {
  return setting === "auto" ? Math.max(1, Math.min(cpus, MAX_AUTO_PROCESSES)) : setting;
}

/** The environment variable that makes `serve` a worker; its value is WorkerInfo as JSON. */
export const WORKER_ENV = "KOTAKPOS_WORKER";

/** What a primary tells each worker. */
export interface WorkerInfo {
  /** The primary's pid (a worker whose parent is no longer it stops). */
  primary: number;
  /** 1 … N−1. */
  index: number;
  /** The primary's bound ports by listener name ("smtp": 2525 …): a worker binds exactly
   *  these (the primary may have had port 0, which cannot be shared otherwise). */
  ports: Record<string, number>;
}

/** How one serving process sees itself (core/open.ts). */
export interface ProcessRole {
  /** Serving processes on this data directory (1: the classic single process). */
  count: number;
  /** Set in a worker; unset in the primary. */
  worker?: WorkerInfo;
}

/** The WorkerInfo in `value` (the KOTAKPOS_WORKER variable), or null when unset. */
export function parseWorkerInfo(value: string | undefined): WorkerInfo | null {
  if (value === undefined || value === "") return null;
  let v: unknown;
  try {
    v = JSON.parse(value);
  } catch {
    throw new Error(`${WORKER_ENV} is not JSON: it is set by "kotakpos serve" for its worker processes only`);
  }
  const o = v as Partial<WorkerInfo>;
  const ok =
    typeof o === "object" &&
    o !== null &&
    Number.isInteger(o.primary) &&
    Number.isInteger(o.index) &&
    typeof o.ports === "object" &&
    o.ports !== null &&
    Object.values(o.ports).every((p) => Number.isInteger(p) && p > 0 && p < 65536);
  if (!ok) throw new Error(`${WORKER_ENV} is malformed: it is set by "kotakpos serve" for its worker processes only`);
  return o as WorkerInfo;
}

/** Messages from a worker to its primary over the IPC channel. */
export type WorkerMessage = { ready: true };

export interface SuperviseOptions {
  /** Workers to run (listen.processes − 1). */
  workers: number;
  /** argv of a worker (the same executable and arguments as this `serve`). */
  command: string[];
  env: Record<string, string | undefined>;
  ports: Record<string, number>;
  log: Logger;
  /** First restart delay; it doubles per quick failure up to maxBackoffMs. */
  backoffMs?: number;
  maxBackoffMs?: number;
}

export interface Supervisor {
  /** Live workers' pids. */
  pids(): number[];
  /** Resolves once every worker has reported ready (listening), or after timeoutMs. */
  ready(timeoutMs: number): Promise<boolean>;
  /** Pass a signal on (SIGHUP: reload). */
  signal(sig: NodeJS.Signals): void;
  /** Stop restarting, send `sig`, wait up to timeoutMs, then SIGKILL what is left. */
  stop(sig: NodeJS.Signals, timeoutMs: number): Promise<void>;
}

/** A worker that ran this long before it died is restarted without the backoff. */
const HEALTHY_MS = 30_000;

interface Slot {
  index: number;
  proc: Bun.Subprocess | null;
  started: number;
  failures: number;
  ready: boolean;
  timer?: ReturnType<typeof setTimeout>;
}

export function superviseWorkers(o: SuperviseOptions): Supervisor {
  const backoff = o.backoffMs ?? 500;
  const maxBackoff = o.maxBackoffMs ?? 30_000;
  let stopping = false;
  const readyWaiters = new Set<() => void>();
  const slots: Slot[] = Array.from({ length: o.workers }, (_, i) => ({ index: i + 1, proc: null, started: 0, failures: 0, ready: false }));
  const allReady = () => slots.every((s) => s.ready);

  function start(slot: Slot): void {
    if (stopping) return;
    const info: WorkerInfo = { primary: process.pid, index: slot.index, ports: o.ports };
    slot.started = Date.now();
    slot.ready = false;
    const proc = Bun.spawn(o.command, {
      env: { ...o.env, [WORKER_ENV]: JSON.stringify(info) },
      stdio: ["ignore", "inherit", "inherit"],
      // Its own process group: a terminal's Ctrl-C reaches the primary only, which
      // passes it on once (a second SIGINT would make the worker exit at once).
      detached: true,
      ipc(msg: unknown) {
        if ((msg as Partial<WorkerMessage>)?.ready !== true) return;
        slot.ready = true;
        slot.failures = 0;
        o.log.info("worker ready", { worker: slot.index, workerPid: proc.pid });
        if (allReady()) for (const w of readyWaiters) w();
      },
    });
    slot.proc = proc;
    void proc.exited.then((code) => {
      slot.proc = null;
      slot.ready = false;
      if (stopping) return;
      const lived = Date.now() - slot.started;
      slot.failures = lived >= HEALTHY_MS ? 1 : slot.failures + 1;
      const delay = Math.min(backoff * 2 ** (slot.failures - 1), maxBackoff);
      o.log.warn("worker exited: restarting", { worker: slot.index, workerPid: proc.pid, code, signal: proc.signalCode ?? undefined, inMs: delay });
      slot.timer = setTimeout(() => start(slot), delay);
    });
  }

  for (const s of slots) start(s);

  return {
    pids: () => slots.flatMap((s) => (s.proc ? [s.proc.pid] : [])),
    ready(timeoutMs) {
      if (allReady()) return Promise.resolve(true);
      return new Promise((resolve) => {
        const done = (ok: boolean) => {
          clearTimeout(t);
          readyWaiters.delete(onReady);
          resolve(ok);
        };
        const onReady = () => done(true);
        const t = setTimeout(() => done(false), timeoutMs);
        readyWaiters.add(onReady);
      });
    },
    signal(sig) {
      for (const s of slots) s.proc?.kill(sig);
    },
    async stop(sig, timeoutMs) {
      stopping = true;
      for (const s of slots) clearTimeout(s.timer);
      const live = slots.flatMap((s) => (s.proc ? [s.proc] : []));
      for (const p of live) p.kill(sig);
      const all = Promise.all(live.map((p) => p.exited));
      const timedOut = await Promise.race([all.then(() => false), Bun.sleep(timeoutMs).then(() => true)]);
      if (timedOut) {
        for (const p of live) if (p.exitCode === null && p.signalCode === null) p.kill("SIGKILL");
        o.log.warn("workers did not stop in time: killed", { pids: live.map((p) => p.pid).join(",") });
        await all;
      }
    },
  };
}

/** In a worker: tell the primary we are listening, and call onGone once it is not there
 *  any more (its IPC channel closed, or we were re-parented: kill -9 of the primary). */
export function attachToPrimary(info: WorkerInfo, onGone: () => void): () => void {
  let gone = false;
  const fire = () => {
    if (gone) return;
    gone = true;
    clearInterval(poll);
    onGone();
  };
  process.on("disconnect", fire);
  const poll = setInterval(() => {
    if (process.ppid !== info.primary) fire();
  }, 1000);
  poll.unref?.();
  const msg: WorkerMessage = { ready: true };
  process.send?.(msg);
  return () => {
    clearInterval(poll);
    process.off("disconnect", fire);
  };
}
