// CPU seconds used by a server, for benchmarks on a shared machine: wall-clock throughput
// moves with other load, CPU time per operation much less (Linux /proc, USER_HZ = 100).
import { readdirSync, readFileSync } from "node:fs";

/** Fields after the command name of /proc/<pid>/stat (index 0 = state). */
function statFields(pid: number | string): string[] | null {
  try {
    const st = readFileSync(`/proc/${pid}/stat`, "utf8");
    return st.slice(st.lastIndexOf(")") + 2).split(" ");
  } catch {
    return null;
  }
}

/** utime + stime of one process (all its threads), in seconds. */
export function processCpuSeconds(pid: number): number {
  const f = statFields(pid);
  return f ? (Number(f[11]) + Number(f[12])) / 100 : NaN;
}

/** CPU of a process tree (a master with its workers: Postfix, Dovecot): its own time plus
 *  that of its reaped children (cutime, cstime), plus every live descendant's own. A child
 *  that exits between two readings moves from the live sum into its parent's c-times, so
 *  the difference of two readings counts it once. */
export function treeCpuSeconds(root: number): number {
  const children = new Map<number, number[]>();
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    const f = statFields(name);
    if (!f) continue;
    const ppid = Number(f[1]);
    let list = children.get(ppid);
    if (!list) children.set(ppid, (list = []));
    list.push(Number(name));
  }
  let ticks = 0;
  const walk = (pid: number) => {
    const f = statFields(pid);
    if (!f) return;
    ticks += Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
    for (const c of children.get(pid) ?? []) walk(c);
  };
  walk(root);
  return ticks / 100;
}

/** CPU seconds of a process's (default: this one's) live threads, summed by thread name (the main thread is
 *  "main"; Bun names workers, its thread pool, the GC and the HTTP threads). */
export function threadCpuSeconds(pid: number = process.pid): Record<string, number> {
  const out: Record<string, number> = {};
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    let st: string;
    try {
      st = readFileSync(`/proc/${pid}/task/${tid}/stat`, "utf8");
    } catch {
      continue;
    }
    const name = tid === String(pid) ? "main" : st.slice(st.indexOf("(") + 1, st.lastIndexOf(")")).replace(/[\d-]+$/, "");
    const f = st.slice(st.lastIndexOf(")") + 2).split(" ");
    out[name] = (out[name] ?? 0) + (Number(f[11]) + Number(f[12])) / 100;
  }
  return out;
}

/** A meter of the CPU nanoseconds a process's live threads have run (and, with `tree`, those
 *  of its descendants, listed once now): /proc/<pid>/task/<tid>/schedstat is exact run time,
 *  not 10 ms ticks, so one command of a serial client can be charged to the server
 *  (scripts/bench/imap.ts --breakdown). Threads that exit are not counted. */
export function cpuMeterNs(pid: number, tree = false): () => number {
  const pids = [pid];
  if (tree) {
    const kids = new Map<number, number[]>();
    for (const name of readdirSync("/proc")) {
      if (!/^\d+$/.test(name)) continue;
      const f = statFields(name);
      if (!f) continue;
      const list = kids.get(Number(f[1])) ?? [];
      list.push(Number(name));
      kids.set(Number(f[1]), list);
    }
    for (let i = 0; i < pids.length; i++) pids.push(...(kids.get(pids[i]!) ?? []));
  }
  return () => {
    let ns = 0;
    for (const p of pids) {
      let tids: string[];
      try {
        tids = readdirSync(`/proc/${p}/task`);
      } catch {
        continue;
      }
      for (const tid of tids) {
        try {
          ns += Number(readFileSync(`/proc/${p}/task/${tid}/schedstat`, "utf8").split(" ")[0]);
        } catch {
          // the thread exited meanwhile
        }
      }
    }
    return ns;
  };
}
