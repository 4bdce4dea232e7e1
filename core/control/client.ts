// The CLI side of the control socket: an AdminApi whose calls run in the server.
import { createConnection, type Socket } from "node:net";
import { existsSync } from "node:fs";
import { ADMIN_METHODS, type AdminApi } from "./api.ts";
import { lineSplitter, type ControlResponse } from "./protocol.ts";

/** An error the server reported for a call (shown to the user as is). */
export class ControlCallError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ControlCallError";
  }
}

export type RemoteAdmin = AdminApi & { close(): void };

function connect(path: string): Promise<Socket | null> {
  return new Promise((resolve) => {
    const s = createConnection({ path }, () => resolve(s));
    s.once("error", () => resolve(null));
  });
}

/** Connect to a running server's control socket; null when none answers. */
export async function connectControl(path: string): Promise<RemoteAdmin | null> {
  if (!existsSync(path)) return null;
  const sock = await connect(path);
  if (!sock) return null;
  let nextId = 1;
  const waiting = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  const failAll = (e: Error) => {
    for (const w of waiting.values()) w.reject(e);
    waiting.clear();
  };
  sock.on(
    "data",
    lineSplitter(
      (line) => {
        const res = JSON.parse(line) as ControlResponse;
        const w = waiting.get(res.id);
        if (!w) return;
        waiting.delete(res.id);
        if (res.ok) w.resolve(res.result);
        else w.reject(new ControlCallError(res.error));
      },
      () => sock.destroy(new Error("control response too long")),
    ),
  );
  sock.on("error", (e) => failAll(e));
  sock.on("close", () => failAll(new Error("the server closed the control connection")));

  const call = (method: string, args: unknown[]): Promise<unknown> =>
    new Promise((resolve, reject) => {
      // JSON has no undefined: drop trailing absent arguments instead of sending null.
      while (args.length && args[args.length - 1] === undefined) args.pop();
      const id = nextId++;
      waiting.set(id, { resolve, reject });
      sock.write(JSON.stringify({ id, method, args }) + "\n");
    });
  const api = Object.fromEntries(ADMIN_METHODS.map((m) => [m, (...args: unknown[]) => call(m, args)])) as unknown as AdminApi;
  api.call = (method, ...args) => call(method, args);
  return Object.assign(api, { close: () => void sock.end() });
}
