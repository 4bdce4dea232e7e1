// Store benchmark: durable appends/s of 10 KiB messages, one appender and 20 concurrent
// appenders (group commit), on a fresh embedded database. Prints ONE JSON line.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openDb } from "../../core/db/open.ts";
import { createStore } from "../../core/store/index.ts";
import type { FsBlobStore } from "../../core/store/blobs.ts";
import type { Logger } from "../../core/types.ts";

const N_SEQ = Number(process.env.BENCH_SEQ ?? 500);
const N_CONC = Number(process.env.BENCH_CONC ?? 2000);
const WORKERS = Number(process.env.BENCH_WORKERS ?? 20);

const log: Logger = { debug() {}, info() {}, warn() {}, error() {}, child: () => log };

function message(i: number): Uint8Array {
  const body = `Line ${i} of a benchmark message with some text in it to fill the body.\r\n`.repeat(140).slice(0, 10 * 1024 - 300);
  return new TextEncoder().encode(
    `From: Bench <bench@a.test>\r\nTo: u@b.test\r\nSubject: bench message ${i}\r\nDate: ${new Date().toUTCString()}\r\nMessage-ID: <${i}.${Math.random()}@a.test>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n${body}\r\n`,
  );
}

const dir = mkdtempSync(join(process.env.BENCH_DIR ?? tmpdir(), "kotakpos-bench-store-"));
try {
  const db = await openDb({ url: `file:${join(dir, "k.db")}` });
  const store = await createStore({ db, blobDir: join(dir, "blobs"), log, gc: { intervalMs: 0 } });
  const acct = await store.createAccount("u@b.test", "pw");
  const inbox = (await store.getMailbox(acct.id, "INBOX"))!;
  const msgs = Array.from({ length: N_SEQ + N_CONC }, (_, i) => message(i));

  let t0 = performance.now();
  for (let i = 0; i < N_SEQ; i++) await store.append(inbox.id, msgs[i]!, { prefix: ["Received: from bench\r\n"] });
  const seqSec = (performance.now() - t0) / 1000;

  const w0 = (store.blobs as FsBlobStore).writeStats();
  let next = N_SEQ;
  const lat: number[] = [];
  t0 = performance.now();
  await Promise.all(
    Array.from({ length: WORKERS }, async () => {
      while (next < N_SEQ + N_CONC) {
        const m = msgs[next++]!;
        const s = performance.now();
        await store.append(inbox.id, m, { prefix: ["Received: from bench\r\n"] });
        lat.push(performance.now() - s);
      }
    }),
  );
  const concSec = (performance.now() - t0) / 1000;
  // Blobs per batch of the writer thread (core/store/blob-writer.ts) while concurrent.
  const w1 = (store.blobs as FsBlobStore).writeStats();
  const w = { blobs: w1.blobs - w0.blobs, batches: w1.batches - w0.batches };
  lat.sort((a, b) => a - b);
  const problems = await store.check();
  const mb = (await store.getMailboxById(inbox.id))!;
  await store.close();
  await db.close();
  console.log(
    JSON.stringify({
      bench: "store",
      messageBytes: msgs[0]!.length,
      sequentialAppendsPerSec: Math.round(N_SEQ / seqSec),
      concurrentAppendsPerSec: Math.round(N_CONC / concSec),
      concurrency: WORKERS,
      blobsPerWriteBatch: Math.round((w.blobs / Math.max(1, w.batches)) * 10) / 10,
      p50ms: Number(lat[Math.floor(lat.length * 0.5)]!.toFixed(2)),
      p99ms: Number(lat[Math.floor(lat.length * 0.99)]!.toFixed(2)),
      messages: mb.messages,
      consistent: problems.length === 0,
    }),
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
