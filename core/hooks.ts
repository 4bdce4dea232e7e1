// The typed hook pipeline (DESIGN.md "Plugins and the hook pipeline"). Handlers return a
// result; a throw or a timeout becomes a temporary failure (defer), never a 5xx.
import type { Connection, HookHandler, HookMap, HookName, Hooks, Logger, Reply } from "./types.ts";

interface Entry {
  plugin: string;
  handler: (...args: unknown[]) => unknown;
  timeoutMs: number;
  last: boolean;
}

const DEFAULT_TIMEOUT_MS = 30_000;

/** What a failed handler yields, per hook: an unknown error is temporary. */
export const TEMP_FAILURE: Reply = { code: 451, enhanced: "4.3.0", text: "Temporary failure, please try again later" };

function failureResult(name: HookName): unknown {
  switch (name) {
    case "smtp.data":
      return { verdict: { kind: "defer", reply: TEMP_FAILURE } };
    case "tls.certificate":
    case "nextHop":
      return { kind: "pass" };
    case "auth":
      return { kind: "reject", reply: { code: 454, enhanced: "4.7.0", text: "Temporary authentication failure" } };
    case "deliver.remote.before":
    case "tls.certificates":
    case "http.routes":
    case "disconnect":
    case "message.queued":
    case "delivered":
    case "deferred":
    case "bounced":
      return undefined;
    default:
      return { kind: "defer", reply: TEMP_FAILURE };
  }
}

function isPass(r: unknown): boolean {
  return r === undefined || r === null || (typeof r === "object" && (r as { kind?: string }).kind === "pass");
}

export function createHooks(log: Logger): Hooks {
  const table = new Map<HookName, Entry[]>();

  async function call(name: HookName, e: Entry, args: unknown[]): Promise<unknown> {
    const ac = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, rej) => {
      timer = setTimeout(() => {
        ac.abort();
        rej(new Error(`timed out after ${e.timeoutMs} ms`));
      }, e.timeoutMs);
    });
    try {
      return await Promise.race([Promise.resolve(e.handler(...args, { signal: ac.signal })), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  async function safeCall(name: HookName, e: Entry, args: unknown[]): Promise<unknown> {
    try {
      return await call(name, e, args);
    } catch (err) {
      log.error("hook failed", { hook: name, plugin: e.plugin, err: (err as Error)?.message ?? String(err) });
      return failureResult(name);
    }
  }

  const entries = (name: HookName) => table.get(name) ?? [];

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
    async first(name, ...args) {
      for (const e of entries(name)) {
        const r = await safeCall(name, e, args);
        if (!isPass(r)) return r as never;
      }
      return { kind: "pass" } as never;
    },
    async all(name, ...args) {
      const out: unknown[] = [];
      for (const e of entries(name)) out.push(await safeCall(name, e, args));
      return out as never;
    },
    async parallel(name, ...args) {
      return (await Promise.all(entries(name).map((e) => safeCall(name, e, args)))) as never;
    },
    notify(name, ...args) {
      for (const e of entries(name)) void safeCall(name, e, args);
    },
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
    on: <K extends HookName>(name: K, handler: HookHandler<K>, opts?: { plugin?: string; timeoutMs?: number; last?: boolean }) =>
      hooks.on(name, handler, { ...opts, plugin: opts?.plugin ?? plugin }),
  };
}

/** The `connect` gate for protocols that refuse with one line and close (IMAP BYE, POP3
 *  -ERR; SMTP answers 503 until QUIT instead, RFC 5321 §3.1): fires `disconnect` when the
 *  connection ends; false when a handler refused it. */
export async function admitConnection(hooks: Hooks, conn: Connection, refuse: (conn: Connection, reply: Reply) => void): Promise<boolean> {
  conn.onClose(() => hooks.notify("disconnect", conn));
  const verdict = await hooks.first("connect", conn);
  if (verdict.kind === "reject" || verdict.kind === "defer" || verdict.kind === "disconnect") {
    refuse(conn, verdict.reply);
    conn.close();
    return false;
  }
  return true;
}

export type { HookMap };
