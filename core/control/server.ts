// The control socket of a running server (<data>/control.sock, mode 0600): admin commands
// of the CLI run here, on the server's own store, so that open sessions see the change.
import { createConnection, createServer, type Socket } from "node:net";
import { chmodSync, existsSync, unlinkSync } from "node:fs";
import type { Logger } from "../types.ts";
import { ADMIN_METHODS, isPluginMethod, type AdminApi } from "./api.ts";
import { lineSplitter, type ControlRequest, type ControlResponse } from "./protocol.ts";

export interface ControlServer {
  path: string;
  close(): Promise<void>;
}

/** sun_path is 108 bytes on Linux; longer paths cannot be bound. */
const MAX_SOCKET_PATH = 107;

const METHODS = new Set<string>(ADMIN_METHODS);

/** A control connection idle this long is closed (admin commands take milliseconds). */
const IDLE_MS = 5 * 60_000;

/** Does something answer on this socket? (A stale file from a crashed server does not.) */
function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection({ path }, () => {
      s.destroy();
      resolve(true);
    });
    s.on("error", () => resolve(false));
  });
}

async function handle(api: AdminApi, line: string): Promise<ControlResponse> {
  let req: ControlRequest;
  try {
    req = JSON.parse(line) as ControlRequest;
  } catch {
    return { id: 0, ok: false, error: "malformed request (not JSON)" };
  }
  const id = typeof req.id === "number" ? req.id : 0;
  const known = typeof req.method === "string" && (METHODS.has(req.method) || isPluginMethod(req.method));
  if (!known || !Array.isArray(req.args) || req.args.length > 4) {
    return { id, ok: false, error: `unknown control method ${JSON.stringify(req.method)}` };
  }
  try {
    const result = METHODS.has(req.method) ? await (api[req.method as keyof AdminApi] as (...args: unknown[]) => Promise<unknown>)(...req.args) : await api.call(req.method, ...req.args);
    return { id, ok: true, result: result ?? null };
  } catch (err) {
    return { id, ok: false, error: (err as Error)?.message ?? String(err) };
  }
}

/** Listen on `path`; null (with a warning) when that is not possible — the CLI then
 *  falls back to opening the database itself. */
export async function startControlServer(opts: { path: string; api: AdminApi; log: Logger }): Promise<ControlServer | null> {
  const { path, api, log } = opts;
  if (Buffer.byteLength(path) > MAX_SOCKET_PATH) {
    log.warn("control socket path too long; admin commands will open the database directly", { path });
    return null;
  }
  if (existsSync(path)) {
    if (await answers(path)) {
      log.warn("another server answers on the control socket; not replacing it", { path });
      return null;
    }
    unlinkSync(path);
  }
  const conns = new Set<Socket>();
  const server = createServer((sock) => {
    conns.add(sock);
    sock.on("close", () => conns.delete(sock));
    sock.on("error", () => sock.destroy());
    sock.setTimeout(IDLE_MS, () => sock.destroy());
    let chain = Promise.resolve();
    sock.on(
      "data",
      lineSplitter(
        (line) => {
          chain = chain.then(async () => {
            const res = await handle(api, line);
            if (!sock.destroyed) sock.write(JSON.stringify(res) + "\n");
          });
        },
        () => sock.destroy(),
      ),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(path, () => {
      server.off("error", reject);
      resolve();
    });
  });
  chmodSync(path, 0o600);
  log.debug("control socket listening", { path });
  return {
    path,
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const c of conns) c.destroy();
      });
      try {
        unlinkSync(path);
      } catch {
        // already gone
      }
    },
  };
}
