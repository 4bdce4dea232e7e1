// One line per event, leveled, to stderr: `2026-11-22T02:34:44.123Z info  msg key=value …`.
import type { Logger, LogLevel } from "./types.ts";

const rank: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

function fmtValue(v: unknown): string {
  if (v instanceof Error) v = v.message;
  const s = typeof v === "string" ? v : JSON.stringify(v);
  return s !== undefined && /^[\w.:@/+-]*$/.test(s) && s !== "" ? s : JSON.stringify(s ?? null);
}

export type LogFormat = "text" | "json";

/** `json`: one object per line, {"time","level","msg", …fields} — the text line's fields. */
function jsonLine(lvl: LogLevel, msg: string, fields: Record<string, unknown>): string {
  const o: Record<string, unknown> = { time: new Date().toISOString(), level: lvl, msg };
  for (const [k, v] of Object.entries(fields)) if (v !== undefined && !(k in o)) o[k] = v instanceof Error ? v.message : v;
  return JSON.stringify(o) + "\n";
}

export function createLogger(level: LogLevel = "info", base: Record<string, unknown> = {}, sink: (line: string) => void = (l) => process.stderr.write(l), format: LogFormat = "text"): Logger {
  const min = rank[level];
  const emit = (lvl: LogLevel, msg: string, fields?: Record<string, unknown>) => {
    if (rank[lvl] < min) return;
    if (format === "json") return sink(jsonLine(lvl, msg, { ...base, ...fields }));
    let line = `${new Date().toISOString()} ${lvl.padEnd(5)} ${msg}`;
    for (const [k, v] of Object.entries({ ...base, ...fields })) if (v !== undefined) line += ` ${k}=${fmtValue(v)}`;
    sink(line.replace(/[\r\n]+/g, " ") + "\n");
  };
  return {
    debug: (m, f) => emit("debug", m, f),
    info: (m, f) => emit("info", m, f),
    warn: (m, f) => emit("warn", m, f),
    error: (m, f) => emit("error", m, f),
    child: (fields) => createLogger(level, { ...base, ...fields }, sink, format),
  };
}
