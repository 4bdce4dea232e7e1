// Runs inside a server: the CLI starts a job over the control socket and polls it for
// progress. A job whose CLI stopped polling (killed, terminal closed) is cancelled; a new
// job for an account takes over from one still running for it (runs are resumable).
import type { Core } from "../../core/types.ts";
import { runJob, type JobSpec } from "./jobs.ts";
import { JobError, emptyCounts, type Counts, type Report, type SourceTotals } from "./types.ts";

/** No poll for this long: the CLI is gone, the job stops. */
export const ABANDON_MS = 15_000;

export interface JobStatus {
  counts: Counts;
  totals: SourceTotals;
  done: boolean;
  report?: Report;
  error?: string;
}

interface Job {
  address: string;
  status: JobStatus;
  abort: AbortController;
  lastPoll: number;
  finished: Promise<void>;
}

export function createJobRunner(core: Pick<Core, "store" | "db" | "log">, opts: { abandonMs?: number } = {}) {
  const abandonMs = opts.abandonMs ?? ABANDON_MS;
  const jobs = new Map<string, Job>();
  let next = 1;
  const timer = setInterval(
    () => {
      const now = Date.now();
      for (const [id, j] of jobs) {
        if (!j.status.done && now - j.lastPoll > abandonMs) {
          core.log.warn("migrate: job abandoned by its client, stopping", { id, address: j.address });
          j.abort.abort();
        }
        if (j.status.done && now - j.lastPoll > 60_000) jobs.delete(id);
      }
    },
    Math.min(1000, abandonMs),
  );
  timer.unref?.();

  return {
    async start(spec: JobSpec): Promise<string> {
      for (const j of jobs.values())
        if (j.address === spec.address && !j.status.done) {
          j.abort.abort();
          await j.finished;
        }
      const id = `j${next++}`;
      const abort = new AbortController();
      const status: JobStatus = { counts: emptyCounts(), totals: {}, done: false };
      const job: Job = { address: spec.address, status, abort, lastPoll: Date.now(), finished: Promise.resolve() };
      job.finished = runJob(spec, { store: core.store, db: core.db }, { onProgress: (c) => void (status.counts = c), onTotals: (t) => void (status.totals = t), signal: abort.signal })
        .then((r) => void (status.report = r))
        .catch((e: Error) => {
          status.error = e instanceof JobError ? e.message : `${e.message}`;
          if (!(e instanceof JobError)) core.log.error("migrate: job failed", { id, err: e.message });
        })
        .finally(() => void (status.done = true));
      jobs.set(id, job);
      return id;
    },
    status(id: string): JobStatus {
      const j = jobs.get(id);
      if (!j) throw new JobError(`no job ${id}`);
      j.lastPoll = Date.now();
      return j.status;
    },
    cancel(id: string): void {
      jobs.get(id)?.abort.abort();
    },
    async stop(): Promise<void> {
      clearInterval(timer);
      for (const j of jobs.values()) j.abort.abort();
      await Promise.all([...jobs.values()].map((j) => j.finished));
    },
  };
}
