// Progress of a long run: a bar redrawn in place on a terminal (messages, bytes, rate,
// ETA), plain lines every few seconds otherwise (logs, pipes).
import type { Counts, Report, SourceTotals } from "./types.ts";

const MB = 1024 * 1024;

export function formatDuration(s: number): string {
  if (!Number.isFinite(s) || s < 0) return "?";
  s = Math.round(s);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, "0");
  return h ? `${h}:${String(m).padStart(2, "0")}:${sec}` : `${m}:${sec}`;
}

/** One progress line: "1234/10000 messages  12.3 MB  850 msg/s 5.2 MB/s  ETA 0:12". */
export function progressLine(c: Counts, totals: SourceTotals, seconds: number): string {
  const rate = seconds > 0 ? c.found / seconds : 0;
  const mbs = seconds > 0 ? c.bytes / MB / seconds : 0;
  const of = totals.messages ? `/${totals.messages}` : "";
  let eta = "";
  if (totals.messages && rate > 0) eta = `  ETA ${formatDuration((totals.messages - c.found) / rate)}`;
  else if (totals.bytes && mbs > 0) eta = `  ETA ${formatDuration((totals.bytes - c.bytes) / MB / mbs)}`;
  return `${c.found}${of} messages  ${(c.bytes / MB).toFixed(1)} MB  ${rate.toFixed(0)} msg/s ${mbs.toFixed(1)} MB/s${eta}`;
}

export interface Progress {
  update(c: Counts): void;
  /** Totals learnt late (an IMAP source counts per folder). */
  setTotals(t: SourceTotals): void;
  done(): void;
}

export function createProgress(write: (s: string) => void, opts: { tty: boolean; totals?: SourceTotals; intervalMs?: number }): Progress {
  const start = Date.now();
  let totals = opts.totals ?? {};
  let last = 0;
  let drawn = false;
  let latest: Counts | null = null;
  const interval = opts.intervalMs ?? (opts.tty ? 100 : 2000);
  const draw = (c: Counts) => {
    const secs = (Date.now() - start) / 1000;
    const line = progressLine(c, totals, secs);
    if (!opts.tty) return write(`progress: ${line}\n`);
    const frac = totals.messages ? c.found / totals.messages : totals.bytes ? c.bytes / totals.bytes : 0;
    const width = 24;
    const fill = Math.max(0, Math.min(width, Math.round(frac * width)));
    write(`\r\x1b[K[${"#".repeat(fill)}${".".repeat(width - fill)}] ${line}`);
    drawn = true;
  };
  return {
    update(c) {
      latest = c;
      const now = Date.now();
      if (now - last < interval) return;
      last = now;
      draw(c);
    },
    setTotals(t) {
      totals = t;
    },
    done() {
      if (latest && opts.tty) draw(latest);
      if (drawn) write("\n");
    },
  };
}

/** The report at the end: the counts that add up, then every skipped message and note. */
export function formatReport(r: Report): string {
  const lines = [
    `found ${r.found} = imported ${r.imported} + skipped ${r.skipped} + already there ${r.existing}`,
    `${(r.bytes / MB).toFixed(1)} MB in ${r.seconds.toFixed(1)} s (${r.seconds > 0 ? (r.found / r.seconds).toFixed(0) : r.found} msg/s), ${r.folders} folders`,
  ];
  if (r.skippedList.length) {
    lines.push("skipped:");
    for (const s of r.skippedList) lines.push(`  ${s.where}: ${s.reason}`);
  }
  for (const n of r.notes) lines.push(`note: ${n}`);
  return lines.join("\n") + "\n";
}
