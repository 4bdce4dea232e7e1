// A small pool of worker threads running the inbound checks (check-worker.ts), so that a
// message whose DKIM verification is slow (huge header sections, many signatures) never
// blocks the event loop: sessions, TLS handshakes, new connections and SIGTERM go on. Each
// check has a deadline that is really enforced: past it (or when the hook's own timeout
// aborts it) the worker is terminated and replaced. Checks that shared that worker are
// run once more on a fresh one.
import type { Logger } from "../../core/types.ts";
import type { CheckJob, ToPool, ToWorker } from "./check-protocol.ts";
import type { InboundInput, InboundResult, MailauthResolver } from "./inbound.ts";

export class CheckDeadlineError extends Error {}

export interface CheckPool {
  /** `deadlineMs` overrides the pool's deadline for this check. */
  check(input: Omit<InboundInput, "resolver">, signal?: AbortSignal, deadlineMs?: number): Promise<InboundResult>;
  /** Shutdown: idle workers stop now, busy ones when their checks end (sessions finishing
   *  inside the shutdown grace still get their answer) or at their deadline. */
  close(): void;
  /** Workers alive now (for tests and logs). */
  readonly size: number;
}

export interface CheckPoolOptions {
  /** Most workers at once; each runs many checks (most time is spent waiting for DNS). */
  workers: number;
  deadlineMs: number;
  resolver: MailauthResolver;
  /** The resolver's cache lifetime of an answer (core/dns Resolver.cachedUntil): workers
   *  keep their copy of it that long, so a repeated question costs no round trip. */
  cachedUntil?: (name: string, rrtype: string) => number;
  log: Logger;
}

interface Job {
  id: number;
  /** The check's input; its bytes are copied into each worker it is sent to. */
  input: Omit<CheckJob, "raw"> & { raw: Uint8Array };
  resolve(r: InboundResult): void;
  reject(e: Error): void;
  timer: ReturnType<typeof setTimeout>;
  /** (Re)starts the deadline: a check run again after its worker was killed for another's
   *  sake gets its full time again. */
  arm(): void;
  slot?: Slot;
  retried: boolean;
}

interface Slot {
  worker: Worker;
  jobs: Map<number, Job>;
  dead: boolean;
}

/** In the compiled binary each entry point sits under /$bunfs/root/ by its path from the
 *  repository root (scripts/build.ts lists this worker), not beside the bundled caller. */
const WORKER_URL = import.meta.url.startsWith("file:///$bunfs/") ? "file:///$bunfs/root/plugins/mailauth/check-worker.js" : new URL("./check-worker.ts", import.meta.url).href;

export function createCheckPool(opts: CheckPoolOptions): CheckPool {
  const slots: Slot[] = [];
  let seq = 0;
  let closed = false;

  function spawn(): Slot {
    const worker = new Worker(WORKER_URL);
    const slot: Slot = { worker, jobs: new Map(), dead: false };
    worker.onmessage = (ev: MessageEvent<ToPool>) => onMessage(slot, ev.data);
    worker.onerror = (ev: ErrorEvent) => {
      opts.log.error("mailauth check worker failed", { err: ev.message });
      kill(slot, null);
    };
    // A worker must never keep the process alive on its own.
    (worker as Worker & { unref?: () => void }).unref?.();
    slots.push(slot);
    return slot;
  }

  function post(slot: Slot, m: ToWorker, transfer?: ArrayBuffer[]): void {
    if (!slot.dead) slot.worker.postMessage(m, transfer ?? []);
  }

  function onMessage(slot: Slot, m: ToPool): void {
    if (m.type === "resolve") {
      const until = () => opts.cachedUntil?.(m.name, m.rrtype) ?? 0;
      opts.resolver(m.name, m.rrtype).then(
        (value) => post(slot, { type: "resolved", qid: m.qid, ok: true, value, until: until() }),
        (err: unknown) => post(slot, { type: "resolved", qid: m.qid, ok: false, message: (err as Error)?.message ?? String(err), code: (err as { code?: string })?.code, until: until() }),
      );
      return;
    }
    const job = slot.jobs.get(m.id);
    if (!job) return;
    finish(job);
    if (m.type === "done") job.resolve(m.result);
    else job.reject(new Error(m.message));
  }

  function finish(job: Job): void {
    clearTimeout(job.timer);
    const slot = job.slot;
    job.slot = undefined;
    if (!slot) return;
    slot.jobs.delete(job.id);
    if (closed && slot.jobs.size === 0) kill(slot, null);
  }

  /** Terminate a worker; its other checks run again elsewhere (once). */
  function kill(slot: Slot, culprit: Job | null): void {
    if (slot.dead) return;
    slot.dead = true;
    slot.worker.terminate();
    slots.splice(slots.indexOf(slot), 1);
    for (const job of [...slot.jobs.values()]) {
      job.slot = undefined;
      slot.jobs.delete(job.id);
      if (job === culprit) continue;
      if (job.retried) {
        clearTimeout(job.timer);
        // Stopped twice for other, slower checks: an overloaded pool, answered like a
        // deadline (451, try later), not as a failure of this message.
        job.reject(new CheckDeadlineError("check worker stopped twice by slower checks"));
      } else {
        job.retried = true;
        job.arm();
        dispatch(job);
      }
    }
  }

  function dispatch(job: Job): void {
    let slot = slots.reduce<Slot | undefined>((best, s) => (!best || s.jobs.size < best.jobs.size ? s : best), undefined);
    if (!slot || (slot.jobs.size > 0 && slots.length < opts.workers)) slot = spawn();
    job.slot = slot;
    slot.jobs.set(job.id, job);
    // A copy of exactly the message's bytes, moved (not cloned a second time) to the worker;
    // the job keeps its own bytes in case it has to run again on another worker.
    const raw = job.input.raw;
    const copy = raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength) as ArrayBuffer;
    post(slot, { type: "check", id: job.id, input: { ...job.input, raw: copy } }, [copy]);
  }

  return {
    get size() {
      return slots.length;
    },
    check(input, signal, deadlineMs = opts.deadlineMs) {
      return new Promise<InboundResult>((resolve, reject) => {
        const raw = input.raw;
        const job: Job = {
          id: ++seq,
          input,
          resolve,
          reject,
          retried: false,
          timer: undefined as unknown as ReturnType<typeof setTimeout>,
          arm() {
            clearTimeout(job.timer);
            job.timer = setTimeout(() => expire(`check took longer than ${deadlineMs} ms`), deadlineMs);
          },
        };
        const expire = (why: string) => {
          const slot = job.slot;
          finish(job);
          reject(new CheckDeadlineError(why));
          if (slot) {
            opts.log.warn("mailauth check stopped: worker terminated", { reason: why, size: raw.byteLength });
            kill(slot, job);
          }
        };
        job.arm();
        signal?.addEventListener("abort", () => job.slot && expire("check aborted"), { once: true });
        dispatch(job);
      });
    },
    close() {
      closed = true;
      for (const s of [...slots]) if (s.jobs.size === 0) kill(s, null);
    },
  };
}
