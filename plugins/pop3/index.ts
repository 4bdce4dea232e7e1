// The POP3 plugin: port 110 (plain, STLS) and 995 (implicit TLS), RFC 1939 with the
// extensions of RFC 2449 (CAPA), RFC 2595 (STLS), RFC 5034 (AUTH) and RFC 3206 (codes).
import { availableParallelism } from "node:os";
import * as v from "valibot";
import { admitConnection } from "../../core/hooks.ts";
import { processCount } from "../../core/procs.ts";
import { definePlugin, type Connection, type Reply } from "../../core/types.ts";
import { createLocks } from "./locks.ts";
import { startSession } from "./session.ts";

const count = v.pipe(v.number(), v.integer(), v.minValue(1));

export const Pop3ConfigSchema = v.optional(
  v.object({
    // RFC 1939 §3: the autologout timer must be at least 10 minutes.
    idleTimeoutSeconds: v.optional(v.pipe(v.number(), v.minValue(1), v.description("Seconds a POP3 session may stay silent before it is closed (RFC 1939: at least 600).")), 600),
    maxErrors: v.optional(v.pipe(count, v.description("-ERR replies in one POP3 session before it is closed.")), 10),
    maxAuthFailures: v.optional(v.pipe(count, v.description("Failed logins per POP3 connection before it is closed.")), 3),
    authFailureDelayMs: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0), v.description("Milliseconds before answering a failed POP3 login.")), 2000),
  }),
  {},
);

export default definePlugin({
  name: "pop3",
  config: Pop3ConfigSchema,
  async setup(core, cfg) {
    const locks = createLocks();
    const limits = {
      idleMs: cfg.idleTimeoutSeconds * 1000,
      maxErrors: cfg.maxErrors,
      maxAuthFailures: cfg.maxAuthFailures,
      authFailureDelayMs: cfg.authFailureDelayMs,
    };
    // Reading pipelined RETRs' blobs on a worker thread costs CPU (~10 % more per RETR) to
    // spare the event loop (~30 % less): worth it when one event loop serves every session
    // and another core is free. With several processes the cores are busy already
    // (measured, listen.processes = 2: 46-47k RETR/s without, 39-43k with).
    const batchReads = processCount(core.config.listen.processes) === 1 && availableParallelism() > 1;

    async function onConnection(conn: Connection): Promise<void> {
      if (!(await admitConnection(core.hooks, conn, refuse))) return;
      startSession(conn, {
        hostname: core.config.hostname,
        store: core.store,
        auth: (cred) => core.hooks.first("auth", conn, cred),
        locks,
        limits,
        batchReads,
      });
    }
    const spec = (name: string, port: number, mode: "plain" | "implicit-tls") => ({
      name,
      port,
      mode,
      onConnection: (conn: Connection) => {
        onConnection(conn).catch((err: Error) => {
          conn.log.error("pop3 session start failed", { err: err.message });
          conn.destroy();
        });
      },
      onRefuse: refuse,
    });
    // Standard ports; the core applies [listen.ports] and the port offset.
    await core.listen(spec("pop3", 110, "plain"));
    await core.listen(spec("pop3s", 995, "implicit-tls"));
  },
});

/** RFC 3206: a refusal the client should retry later is [SYS/TEMP]. */
function refuse(conn: Connection, reply: Reply): void {
  const code = reply.code < 500 ? "[SYS/TEMP] " : "";
  conn.write(`-ERR ${code}${reply.text.replace(/[\r\n]+/g, " ")}\r\n`);
}
