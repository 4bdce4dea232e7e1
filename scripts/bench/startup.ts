// Start-up figures of the single executable, as one JSON line:
//   binaryBytes      size of dist/kotakpos as built by scripts/build.ts
//   firstStartMs     spawn → every listener accepting, on an empty data dir (migrations,
//                    self-signed certificate, default config file)
//   startMs          the same with the data dir already there (median of RUNS)
//   idleRssKiB       resident memory of the idle server, IDLE_MS after start
//   stopMs           SIGTERM → exit (median)
// usage: bun scripts/bench/startup.ts [--binary PATH]   (default: build a fresh one)
import { mkdtempSync, rmSync, statSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildBinary, freeOffset, serve, tcpConnect } from "../../tests/helpers/binary.ts";

const RUNS = 5;
const IDLE_MS = 2000;

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
};
const round = (x: number): number => Math.round(x * 10) / 10;

function rssKiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) : NaN;
}

const tmp = mkdtempSync(join(tmpdir(), "kotakpos-bench-startup-"));
try {
  const argBin = process.argv.indexOf("--binary");
  const bin = argBin > 0 ? process.argv[argBin + 1]! : await buildBinary(join(tmp, "kotakpos"));
  const data = join(tmp, "data");

  /** Spawn → banner → every listed listener accepts a connection. */
  async function startOnce(measureRss: boolean) {
    const offset = await freeOffset();
    const t0 = performance.now();
    const s = await serve(bin, ["--data", data, "--port-offset", String(offset), "--listen", "127.0.0.1"], { cwd: tmp, env: { KOTAKPOS_LOG_LEVEL: "warn" } });
    await Promise.all(s.listeners.map((l) => tcpConnect(l.port)));
    const readyMs = performance.now() - t0;
    let rss = NaN;
    if (measureRss) {
      await Bun.sleep(IDLE_MS);
      rss = rssKiB(s.proc.pid);
    }
    const { code, ms } = await s.signal("SIGTERM");
    if (code !== 0) throw new Error(`serve exited ${code}: ${s.stderr()}`);
    return { readyMs, rss, stopMs: ms, listeners: s.listeners.length };
  }

  const first = await startOnce(true);
  const warm = [];
  for (let i = 0; i < RUNS; i++) warm.push(await startOnce(false));
  console.log(
    JSON.stringify({
      bench: "startup",
      binaryBytes: statSync(bin).size,
      listeners: first.listeners,
      firstStartMs: round(first.readyMs),
      startMs: round(median(warm.map((w) => w.readyMs))),
      idleRssKiB: first.rss,
      stopMs: round(median(warm.map((w) => w.stopMs))),
      runs: RUNS,
    }),
  );
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
