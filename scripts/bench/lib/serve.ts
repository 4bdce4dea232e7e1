// `--processes N` (or BENCH_PROCESSES=N) for the benchmarks: kotakpos runs as a real
// `kotakpos serve` with listen.processes = N (tests/helpers/serve-process.ts) instead of
// inside the bench process; the data directory is filled in-process first (fast store
// appends), then served. CPU is that of the whole process tree (primary and workers).
import { Database } from "bun:sqlite";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { childPids, startServeProcess, type ServeProcess } from "../../../tests/helpers/serve-process.ts";
import { treeCpuSeconds } from "./cpu.ts";

/** The --processes N / BENCH_PROCESSES=N setting; null: the in-process server as before. */
export function processesOption(): number | null {
  const i = process.argv.indexOf("--processes");
  const raw = i > 0 ? process.argv[i + 1] : process.env.BENCH_PROCESSES;
  if (raw === undefined || raw === "") return null;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--processes must be a whole number ≥ 1, not ${raw}`);
  return n;
}

export interface BenchServe extends ServeProcess {
  /** CPU seconds of the primary and its workers so far. */
  cpuSeconds(): number;
  /** Resident set size of the primary and its workers, MiB. */
  rssMiB(): number;
  /** Write-lock waits on the shared database, summed over the processes' stop lines. */
  lockWaits(): { transactions: number; waits: number; ms: number; heldMs: number };
  /** A read of the database (bun:sqlite, read-only: WAL readers never block the server). */
  query(sql: string): Promise<Record<string, unknown>[]>;
}

const rssOf = (pid: number): number => {
  try {
    return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0) / 1024;
  } catch {
    return 0;
  }
};

/** Serve an existing data directory (accounts and mail already there) with N processes. */
export async function serveBench(dataDir: string, processes: number, config: Record<string, unknown> = {}): Promise<BenchServe> {
  // info: each process logs its write-lock waits when it stops (core/db/open.ts).
  // KOTAKPOS_* and BUN_JSC_* variables of the bench reach the server (config overrides,
  // e.g. KOTAKPOS_CLUSTER_CHANGE_POLL_MS=0 without the change feed; JavaScriptCore
  // options, e.g. BUN_JSC_numberOfGCMarkers=1).
  const env = Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => (e[0].startsWith("KOTAKPOS_") || e[0].startsWith("BUN_JSC_")) && e[1] !== undefined));
  const sp = await startServeProcess({ processes, dataDir, domains: [], config: { ...config, log: { level: "info" } }, env });
  let db: Database | null = null;
  return {
    ...sp,
    cpuSeconds: () => treeCpuSeconds(sp.pid),
    rssMiB: () => Math.round([sp.pid, ...childPids(sp.pid)].reduce((a, p) => a + rssOf(p), 0) * 10) / 10,
    lockWaits() {
      let transactions = 0;
      let waits = 0;
      let ms = 0;
      let heldMs = 0;
      for (const m of sp.stderr().matchAll(/database write lock waits .*?transactions=(\d+) waits=(\d+) ms=(\d+) heldMs=(\d+)/g)) {
        transactions += Number(m[1]);
        waits += Number(m[2]);
        ms += Number(m[3]);
        heldMs += Number(m[4]);
      }
      return { transactions, waits, ms, heldMs };
    },
    async query(sql) {
      db ??= new Database(join(dataDir, "kotakpos.db"), { readonly: true });
      return db.query(sql).all() as Record<string, unknown>[];
    },
    async stop(sig) {
      db?.close();
      db = null;
      return sp.stop(sig);
    },
  };
}
