// The typed hook pipeline (DESIGN.md "Plugins and the hook pipeline"). Generic: how each
// hook runs and what a failing handler yields are declared in HOOKS (core/types.ts, beside
// HookMap). A throw or a timeout becomes that failure result — a temporary one, never a 5xx.
import { HOOKS, TEMP_FAILURE, type Connection, type HookHandler, type HookMap, type HookMode, type HookName, type Hooks, type Logger, type Reply } from "./types.ts";

export { TEMP_FAILURE };

interface Entry {
  plugin: string;
  handler: (...args: unknown[]) => unknown;
  timeoutMs: number;
  last: boolean;
}

const DEFAULT_TIMEOUT_MS = 30_000;

function isPass(r: unknown): boolean {
  return r === undefined || r === null || (typeof r === "object" && (r as { kind?: string }).kind === "pass");
}

/** The mode a caller asked for must be the declared one (a mismatch is a programming error). */
function declared(name: HookName, mode: HookMode): HookMode {
  if (HOOKS[name].mode !== mode) throw new Error(`hook ${name} runs "${HOOKS[name].mode}", not "${mode}"`);
  return mode;
}

export function createHooks(log: Logger): Hooks {
  const table = new Map<HookName, Entry[]>();

  async function call(name: HookName, e: Entry, args: unknown[]): Promise<unknown> {
    // Many handlers answer at once (most return pass): the abort signal is made only when
    // a handler reads it, and the timeout is armed only for an answer still to come —
    // a dozen handler calls per SMTP message made both every time.
    let ac: AbortController | undefined;
    const r = e.handler(...args, {
      get signal() {
        return (ac ??= new AbortController()).signal;
      },
    });
    if (typeof (r as PromiseLike<unknown> | null)?.then !== "function") return r;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, rej) => {
      timer = setTimeout(() => {
        ac?.abort();
        rej(new Error(`timed out after ${e.timeoutMs} ms`));
      }, e.timeoutMs);
    });
    try {
      return await Promise.race([r as PromiseLike<unknown>, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  async function safeCall(name: HookName, e: Entry, args: unknown[]): Promise<unknown> {
    try {
      return await call(name, e, args);
    } catch (err) {
      log.error("hook failed", { hook: name, plugin: e.plugin, err: (err as Error)?.message ?? String(err) });
      return HOOKS[name].failure;
    }
  }

  const entries = (name: HookName) => table.get(name) ?? [];

  const runners: Record<HookMode, (name: HookName, args: unknown[]) => unknown> = {
    async first(name, args) {
      for (const e of entries(name)) {
        const r = await safeCall(name, e, args);
        if (!isPass(r)) return r;
      }
      return { kind: "pass" };
    },
    async all(name, args) {
      const out: unknown[] = [];
      for (const e of entries(name)) out.push(await safeCall(name, e, args));
      return out;
    },
    parallel: (name, args) => Promise.all(entries(name).map((e) => safeCall(name, e, args))),
    notify(name, args) {
      for (const e of entries(name)) void safeCall(name, e, args);
    },
  };

  return {
    on(name, handler, opts) {
      const list = table.get(name) ?? [];
      const e: Entry = { plugin: opts?.plugin ?? "?", handler: handler as Entry["handler"], timeoutMs: opts?.timeoutMs ?? DEFAULT_TIMEOUT_MS, last: opts?.last ?? false };
      // Defaults registered with `last` stay behind every plugin's handler.
      const firstLast = list.findIndex((x) => x.last);
      if (!e.last && firstLast >= 0) list.splice(firstLast, 0, e);
      else list.push(e);
      table.set(name, list);
    },
    run: ((name: HookName, ...args: unknown[]) => runners[HOOKS[name].mode](name, args)) as Hooks["run"],
    first: ((name: HookName, ...args: unknown[]) => runners[declared(name, "first")](name, args)) as Hooks["first"],
    all: ((name: HookName, ...args: unknown[]) => runners[declared(name, "all")](name, args)) as Hooks["all"],
    parallel: ((name: HookName, ...args: unknown[]) => runners[declared(name, "parallel")](name, args)) as Hooks["parallel"],
    notify: ((name: HookName, ...args: unknown[]) => void runners[declared(name, "notify")](name, args)) as Hooks["notify"],
    list() {
      const out: { hook: HookName; plugin: string }[] = [];
      for (const [hook, list] of table) for (const e of list) out.push({ hook, plugin: e.plugin });
      return out;
    },
  };
}

/** Bind a hooks object to a plugin name so its registrations carry it. */
export function hooksFor(hooks: Hooks, plugin: string): Hooks {
  return {
    ...hooks,
    on: <K extends HookName>(name: K, handler: HookHandler<K>, opts?: { plugin?: string; timeoutMs?: number; last?: boolean }) => hooks.on(name, handler, { ...opts, plugin: opts?.plugin ?? plugin }),
  };
}

/** The `connect` gate for protocols that refuse with one line and close (IMAP BYE, POP3
 *  -ERR; SMTP answers 503 until QUIT instead, RFC 5321 §3.1): fires `disconnect` when the
 *  connection ends; false when a handler refused it. */
export async function admitConnection(hooks: Hooks, conn: Connection, refuse: (conn: Connection, reply: Reply) => void): Promise<boolean> {
  conn.onClose(() => hooks.run("disconnect", conn));
  const verdict = await hooks.run("connect", conn);
  if (verdict.kind === "reject" || verdict.kind === "defer" || verdict.kind === "disconnect") {
    refuse(conn, verdict.reply);
    conn.close();
    return false;
  }
  return true;
}

export type { HookMap };
