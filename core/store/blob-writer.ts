// Durable blob writes on a worker thread, in batches. On the main thread, the metadata
// syscalls of a blob write (create the temp file, rename, mkdir) wait behind the ext4
// journal commits that concurrent fsyncs force, and blocked the event loop for ~0.3 ms
// each. The worker takes every blob queued while it was busy and writes them as one batch:
// write each temp file, fsync them all concurrently (concurrent fsyncs share journal
// commits), rename them into place, then fsync each touched directory once, also
// concurrently. Only then does any blob of the batch resolve: the same guarantee as one
// blob at a time (file and directory entry durable before put() resolves).

import { workerCalls } from "./blob-worker.ts";

export interface BlobJob {
  /** Temp file path (in the blob store's tmp dir, same filesystem). */
  tmp: string;
  /** Final path, inside `dir`. */
  final: string;
  /** The directory of the final path (created if missing). */
  dir: string;
  /** Its parent (fsynced when `dir` had to be created). */
  parent: string;
  data: Uint8Array;
}

export interface BlobWriter {
  write(job: BlobJob): Promise<void>;
  /** Batches written so far and blobs in them (benchmarks: are batches forming?). */
  stats(): { batches: number; blobs: number };
  close(): void;
}

const WORKER_SOURCE = String.raw`
const fs = require("node:fs");
const known = new Set();
const queue = [];
let running = false;
let batches = 0;

function fsyncP(fd) {
  return new Promise((resolve, reject) => fs.fsync(fd, (e) => (e ? reject(e) : resolve())));
}
async function fsyncDir(dir) {
  const fd = fs.openSync(dir, "r");
  try { await fsyncP(fd); } finally { fs.closeSync(fd); }
}

async function runBatch(jobs) {
  const results = jobs.map(() => null); // null = ok, string = error
  const open = []; // { i, fd }
  const dirs = new Set();
  for (let i = 0; i < jobs.length; i++) {
    const j = jobs[i];
    try {
      if (fs.existsSync(j.final)) continue;
      if (!known.has(j.dir)) {
        if (fs.mkdirSync(j.dir, { recursive: true })) dirs.add(j.parent);
        known.add(j.dir);
      }
      const fd = fs.openSync(j.tmp, "w", 0o600);
      open.push({ i, fd });
      const d = j.data;
      let off = 0;
      while (off < d.length) off += fs.writeSync(fd, d, off, d.length - off);
    } catch (e) {
      results[i] = String((e && e.message) || e);
    }
  }
  // Every file's data durable (concurrently: the journal groups them).
  await Promise.all(open.map(async (o) => {
    try { await fsyncP(o.fd); } catch (e) { results[o.i] = String((e && e.message) || e); }
  }));
  for (const o of open) {
    try { fs.closeSync(o.fd); } catch {}
    const j = jobs[o.i];
    if (results[o.i] !== null) { try { fs.unlinkSync(j.tmp); } catch {} continue; }
    try {
      fs.renameSync(j.tmp, j.final);
      dirs.add(j.dir);
    } catch (e) {
      results[o.i] = String((e && e.message) || e);
      try { fs.unlinkSync(j.tmp); } catch {}
    }
  }
  // Each touched directory once: the renames (and new directories) durable.
  let dirErr = null;
  await Promise.all([...dirs].map(async (d) => {
    try { await fsyncDir(d); } catch (e) { dirErr = String((e && e.message) || e); }
  }));
  if (dirErr !== null) for (let i = 0; i < jobs.length; i++) if (results[i] === null) results[i] = dirErr;
  return results;
}

async function drain() {
  if (running) return;
  running = true;
  try {
    while (queue.length) {
      const jobs = queue.splice(0);
      let results;
      try {
        results = await runBatch(jobs);
      } catch (e) {
        results = jobs.map(() => String((e && e.message) || e));
      }
      batches++;
      postMessage({ batches, done: jobs.map((j, i) => ({ n: j.n, err: results[i] })) });
    }
  } finally {
    running = false;
  }
}

self.onmessage = (e) => {
  queue.push(e.data);
  // At once when idle (a timer here cost a sequential appender ~1 ms each); while a batch
  // waits for its fsyncs, the messages arriving meanwhile form the next one.
  if (!running) queueMicrotask(drain);
};
`;

/** Writes on a worker thread (blob-worker.ts), batched there. */
export function createBlobWriter(): BlobWriter {
  let batches = 0;
  let blobs = 0;
  const calls = workerCalls<void>(WORKER_SOURCE, "blob writer", function* (data) {
    const d = data as { batches: number; done: { n: number; err: string | null }[] };
    batches = d.batches;
    blobs += d.done.length;
    for (const x of d.done) yield [x.n, x.err === null ? undefined : new Error(`blob write failed: ${x.err}`)];
  });
  return {
    write(job: BlobJob): Promise<void> {
      // A copy of exactly these bytes, transferred (cloning a Buffer view would copy its
      // whole pool; Buffer#slice is a view, hence the constructor).
      const data = new Uint8Array(job.data);
      return calls.call((w, n) => w.postMessage({ ...job, data, n }, [data.buffer]));
    },
    stats: () => ({ batches, blobs }),
    close: () => calls.close("blob store closed"),
  };
}
