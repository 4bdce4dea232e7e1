// The embedded database's write connection: libsql's native Database used directly, with
// a prepared-statement cache. @libsql/client prepares every statement on every call and
// builds each row with defineProperty; on the delivery path (a handful of statements per
// message, all on the main thread) that was the largest CPU cost. Results have the
// @libsql/client ResultSet shape so drizzle's libsql driver runs on top unchanged.
import Database from "libsql";
import { LibsqlError } from "@libsql/client/sqlite3";
import type { InArgs, InStatement, ResultSet, Row } from "@libsql/client";

interface NativeStatement {
  raw(on?: boolean): NativeStatement;
  columns(): { name: string; type: string | null }[];
  all(args: unknown): unknown[][];
  run(args: unknown): { changes: number; lastInsertRowid: number | bigint };
}
interface NativeDatabase {
  prepare(sql: string): NativeStatement;
  exec(sql: string): void;
  close(): void;
  readonly inTransaction: boolean;
}

interface Cached {
  stmt: NativeStatement;
  /** null for statements that return no rows. */
  columns: string[] | null;
  columnTypes: string[];
  proto: object | null;
}

const VALUES = Symbol("values");
const CACHE_MAX = 512;

export interface LocalConn {
  execute(stmt: InStatement): ResultSet;
  exec(sql: string): void;
  readonly inTransaction: boolean;
  close(): void;
}

/** Row prototype for a column list: index access (non-enumerable getters) and length, like
 *  @libsql/client rows; named columns are own enumerable properties. */
function rowProto(columns: string[]): object {
  const proto: Record<string | symbol, unknown> = {};
  Object.defineProperty(proto, "length", { value: columns.length });
  for (let i = 0; i < columns.length; i++) {
    Object.defineProperty(proto, i, {
      get(this: { [VALUES]: unknown[] }) {
        return this[VALUES][i];
      },
    });
  }
  return proto;
}

function toArgs(args: InArgs | undefined): unknown {
  if (args === undefined) return [];
  const conv = (v: unknown): unknown => {
    if (typeof v === "boolean") return v ? 1 : 0;
    if (v instanceof Date) return v.valueOf();
    if (v instanceof ArrayBuffer) return Buffer.from(v);
    if (v === undefined) throw new TypeError("undefined cannot be passed as argument to the database");
    return v;
  };
  if (Array.isArray(args)) return args.map(conv);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(args)) out[k[0] === "@" || k[0] === "$" || k[0] === ":" ? k.slice(1) : k] = conv(v);
  return out;
}

function mapError(e: unknown): unknown {
  const err = e as { code?: string; rawCode?: number; message?: string };
  if (err && typeof err.rawCode === "number") {
    const base = baseCode(err.rawCode);
    return new LibsqlError(err.message ?? "SQLite error", base, err.code, err.rawCode, e as Error);
  }
  return e;
}

const BASE: Record<number, string> = {
  1: "SQLITE_ERROR",
  5: "SQLITE_BUSY",
  6: "SQLITE_LOCKED",
  8: "SQLITE_READONLY",
  10: "SQLITE_IOERR",
  11: "SQLITE_CORRUPT",
  13: "SQLITE_FULL",
  19: "SQLITE_CONSTRAINT",
};
function baseCode(raw: number): string {
  return BASE[raw & 0xff] ?? "SQLITE_UNKNOWN";
}

export function openLocal(path: string, opts: { timeoutMs: number; readonly?: boolean }): LocalConn {
  const db = new (Database as unknown as new (p: string, o: object) => NativeDatabase)(path, { timeout: opts.timeoutMs, ...(opts.readonly && { readonly: true }) });
  const cache = new Map<string, Cached>();

  function prepare(sql: string): Cached {
    let c = cache.get(sql);
    if (c) return c;
    const stmt = db.prepare(sql);
    let columns: string[] | null = null;
    let columnTypes: string[] = [];
    try {
      stmt.raw(true); // throws for statements that return no data
      const cols = stmt.columns();
      columns = cols.map((x) => x.name);
      columnTypes = cols.map((x) => x.type ?? "");
    } catch {
      columns = null;
    }
    c = { stmt, columns, columnTypes, proto: columns ? rowProto(columns) : null };
    if (cache.size >= CACHE_MAX) cache.clear();
    cache.set(sql, c);
    return c;
  }

  function execute(s: InStatement): ResultSet {
    const sql = typeof s === "string" ? s : s.sql;
    const args = typeof s === "string" ? [] : toArgs(s.args);
    try {
      const c = prepare(sql);
      if (c.columns) {
        const cols = c.columns;
        const raw = c.stmt.all(args);
        const rows: Row[] = new Array(raw.length);
        for (let r = 0; r < raw.length; r++) {
          const vals = raw[r]!;
          const row = Object.create(c.proto) as Record<string | symbol, unknown>;
          row[VALUES] = vals;
          for (let i = 0; i < cols.length; i++) if (!Object.hasOwn(row, cols[i]!)) row[cols[i]!] = vals[i];
          rows[r] = row as unknown as Row;
        }
        return result(cols, c.columnTypes, rows, 0, undefined);
      }
      const info = c.stmt.run(args);
      return result([], [], [], info.changes, BigInt(info.lastInsertRowid));
    } catch (e) {
      throw mapError(e);
    }
  }

  return {
    execute,
    exec(sql: string) {
      try {
        db.exec(sql);
      } catch (e) {
        throw mapError(e);
      }
    },
    get inTransaction() {
      return db.inTransaction;
    },
    close() {
      cache.clear();
      db.close();
    },
  };
}

function result(columns: string[], columnTypes: string[], rows: Row[], rowsAffected: number, lastInsertRowid: bigint | undefined): ResultSet {
  return {
    columns,
    columnTypes,
    rows,
    rowsAffected,
    lastInsertRowid,
    toJSON() {
      return { columns, columnTypes, rows: rows.map((r) => Array.prototype.slice.call(r)), rowsAffected, lastInsertRowid: lastInsertRowid?.toString() ?? null };
    },
  };
}
