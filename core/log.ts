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
  return new Log(rank[level], level, base, sink, format);
}

/** Methods on the prototype, not closures: every connection has a child logger. */
class Log implements Logger {
  constructor(
    private readonly min: number,
    private readonly level: LogLevel,
    private readonly base: Record<string, unknown>,
    private readonly sink: (line: string) => void,
    private readonly format: LogFormat,
  ) {}
  private emit(lvl: LogLevel, msg: string, fields?: Record<string, unknown>): void {
    if (rank[lvl] < this.min) return;
    if (this.format === "json") return this.sink(jsonLine(lvl, msg, { ...this.base, ...fields }));
    let line = `${new Date().toISOString()} ${lvl.padEnd(5)} ${msg}`;
    for (const [k, v] of Object.entries({ ...this.base, ...fields })) if (v !== undefined) line += ` ${k}=${fmtValue(v)}`;
    this.sink(line.replace(/[\r\n]+/g, " ") + "\n");
  }
  debug(msg: string, fields?: Record<string, unknown>): void {
    this.emit("debug", msg, fields);
  }
  info(msg: string, fields?: Record<string, unknown>): void {
    this.emit("info", msg, fields);
  }
  warn(msg: string, fields?: Record<string, unknown>): void {
    this.emit("warn", msg, fields);
  }
  error(msg: string, fields?: Record<string, unknown>): void {
    this.emit("error", msg, fields);
  }
  child(fields: Record<string, unknown>): Logger {
    return new Log(this.min, this.level, { ...this.base, ...fields }, this.sink, this.format);
  }
}
