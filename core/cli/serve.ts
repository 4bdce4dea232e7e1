// kotakpos serve — validate the config (exit 2 before binding anything), start the
// server, print the banner, stop gracefully on SIGTERM/SIGINT. With listen.processes > 1
// this process is the primary and supervises its workers (core/procs.ts); a worker runs
// this same command, marked by KOTAKPOS_WORKER.
import { isIP } from "node:net";
import { join } from "node:path";
import { attachToPrimary, parseWorkerInfo, processCount, superviseWorkers, WORKER_ENV, type Supervisor, type WorkerInfo } from "../procs.ts";
import { startControlServer, type ControlServer } from "../control/server.ts";
import { firstStart, isFirstStart } from "../first-start.ts";
import { createLogger } from "../log.ts";
import { startServer, type RunningServer } from "../server.ts";
import type { ReloadReport } from "../reload.ts";
import { intOption, positionals, str } from "./args.ts";
import type { Command } from "./command.ts";
import { controlSocketPath, loadCliConfig } from "./context.ts";
import { CommandError, UsageError } from "./errors.ts";
import { processIo } from "./io.ts";
import { connectControl, ControlCallError } from "../control/client.ts";

/** Seconds beyond the grace period before a stuck shutdown is cut short. */
const STOP_MARGIN_S = 3;

export const serveCommand: Command = {
  name: "serve",
  summary: "run the mail server",
  usage: ["serve [--port-offset N] [--listen ADDRESS]"],
  details: [
    "Options:",
    "  --port-offset N    add N to every standard port (25 -> N+25 …); without it and without",
    "                     listen.portOffset: 0 as root, 10000 otherwise",
    "  --listen ADDRESS   address every listener binds (overrides listen.address)",
    "",
    "SIGHUP (or kotakpos reload) reads the config file again and applies it without dropping",
    "a session; an invalid file is refused and the running config stays in force.",
    "SIGTERM or SIGINT stops it: listeners close, sessions get listen.shutdownGraceSeconds",
    "to finish, the database is closed, exit status 0.",
    "",
    'listen.processes = N (or "auto") serves the mail ports from N processes (SO_REUSEPORT);',
    "this one starts and supervises the others and passes signals on to them.",
  ],
  options: { "port-offset": { type: "string" }, listen: { type: "string" } },
  async run(ctx, p) {
    positionals(p, []);
    const portOffset = intOption(p, "port-offset", 0, 60000);
    const address = str(p, "listen");
    if (address !== undefined && isIP(address) === 0) throw new UsageError(`--listen must be an IP address like 0.0.0.0, :: or 127.0.0.1, not "${address}"`);
    const overrides = { listen: { ...(address !== undefined && { address }), ...(portOffset !== undefined && { portOffset }) } };
    const { config, plugins } = await loadCliConfig(ctx, overrides);
    const worker = parseWorkerInfo(process.env[WORKER_ENV]);
    const args = [
      "serve",
      "--data",
      ctx.globals.dataDir,
      ...(ctx.globals.configFile ? ["--config", ctx.globals.configFile] : []),
      ...(address !== undefined ? ["--listen", address] : []),
      ...(portOffset !== undefined ? ["--port-offset", String(portOffset)] : []),
    ];
    // The first start's one-time work, then this command again in a fresh process image
    // (core/first-start.ts). Not when the CLI runs inside another program (tests).
    if (!worker && ctx.io === processIo && isFirstStart(ctx.globals.dataDir, config))
      await firstStart(ctx.globals.dataDir, config, createLogger(config.log.level, {}, undefined, config.log.format), selfCommand(args));
    const count = worker ? Math.max(2, processCount(config.listen.processes)) : processCount(config.listen.processes);
    const grace = config.listen.shutdownGraceSeconds;
    const signals = catchSignals();
    let supervisor: Supervisor | null = null;
    try {
      const server = await startServer({
        dataDir: ctx.globals.dataDir,
        config,
        plugins,
        loadPluginDir: false,
        portOffset,
        listenAddress: address,
        banner: !worker,
        processes: { count, worker: worker ?? undefined },
        async onListening(s) {
          if (worker || count === 1) return [];
          const ports = Object.fromEntries(s.listeners.map((l) => [l.name, l.port]));
          supervisor = superviseWorkers({ workers: count - 1, command: selfCommand(args), env: { ...process.env, ...ctx.io.env }, ports, log: s.core.log });
          if (!(await supervisor.ready(60_000))) s.core.log.warn("not every worker process is listening yet; the ready ones serve");
          return [`  processes       ${count} (pids ${[process.pid, ...supervisor.pids()].join(", ")})`];
        },
      });
      // kotakpos reload, SIGHUP (systemd ExecReload): the config file read again, applied in place.
      const reload = async (): Promise<ReloadReport> => {
        const report = server.reload((await loadCliConfig(ctx, overrides)).config);
        (supervisor as Supervisor | null)?.signal("SIGHUP");
        return report;
      };
      const onHup = () => void reload().catch((err: unknown) => server.core.log.error("config reload refused; the running config stays in force", { err: (err as Error).message }));
      process.on("SIGHUP", onHup);
      server.core.onShutdown(() => void process.off("SIGHUP", onHup));
      if (worker) return await runWorker(server, worker, signals, grace);
      const control = await startControl(server, ctx.globals.dataDir, reload);
      return await signals.attach(server, grace, control, supervisor);
    } catch (err) {
      signals.detach();
      await (supervisor as Supervisor | null)?.stop("SIGTERM", (grace + 1) * 1000);
      throw err;
    }
  },
};

/** argv that starts this program again with `args`: the compiled executable itself, or
 *  Bun on the composition root (main.ts) when run from source. */
function selfCommand(args: string[]): string[] {
  const compiled = import.meta.path.startsWith("/$bunfs/") || import.meta.path.includes("~BUN");
  return compiled ? [process.execPath, ...args] : [process.execPath, join(import.meta.dir, "..", "..", "main.ts"), ...args];
}

/** A worker: tell the primary it listens; stop on a signal or once the primary is gone. */
function runWorker(server: RunningServer, info: WorkerInfo, signals: ReturnType<typeof catchSignals>, grace: number): Promise<number> {
  const detach = attachToPrimary(info, () => {
    server.core.log.warn("primary process gone: stopping");
    process.kill(process.pid, "SIGTERM");
  });
  server.core.onShutdown(detach);
  return signals.attach(server, grace, null, null, true);
}

/** The control socket, so admin commands run inside this process (sessions see them). */
async function startControl(server: RunningServer, dataDir: string, reload: () => Promise<ReloadReport>): Promise<ControlServer | null> {
  const { core } = server;
  try {
    return await startControlServer({ path: controlSocketPath(dataDir), api: { ...server.admin, reload }, log: core.log });
  } catch (err) {
    core.log.warn("no control socket; admin commands will open the database directly", { err: (err as Error).message });
    return null;
  }
}

/** Catch SIGTERM/SIGINT from the start (a signal during start-up stops the server as
 *  soon as it is up); `attach` resolves with the exit status once it has stopped. */
function catchSignals() {
  let pending: NodeJS.Signals | null = null;
  let onSignal: (sig: NodeJS.Signals) => void = (sig) => {
    pending ??= sig;
  };
  const handler = (sig: NodeJS.Signals) => onSignal(sig);
  process.on("SIGTERM", handler);
  process.on("SIGINT", handler);
  const detach = () => {
    process.off("SIGTERM", handler);
    process.off("SIGINT", handler);
  };
  return {
    detach,
    attach(server: RunningServer, graceSeconds: number, control: ControlServer | null, workers: Supervisor | null, worker = false): Promise<number> {
      return new Promise((resolve) => {
        let stopping = false;
        onSignal = (sig) => {
          // A worker may get the signal twice (systemd signals the whole cgroup, and the
          // primary passes it on): it keeps stopping in order; the primary kills it if late.
          if (stopping && worker) return;
          if (stopping) {
            server.core.log.warn(`second ${sig}: exiting now`);
            process.exit(1);
          }
          stopping = true;
          server.core.log.info("stopping", { signal: sig });
          const guard = setTimeout(
            () => {
              server.core.log.error("shutdown took too long: exiting");
              process.exit(1);
            },
            (graceSeconds + STOP_MARGIN_S) * 1000,
          );
          guard.unref?.();
          const stopAll = async () => {
            // Workers get the same signal and grace; they are waited for (then killed).
            const others = workers?.stop(sig, (graceSeconds + 1) * 1000);
            await control?.close();
            await server.stop();
            await others;
          };
          stopAll().then(
            () => {
              clearTimeout(guard);
              detach();
              server.core.log.info("stopped");
              resolve(0);
            },
            (err: unknown) => {
              clearTimeout(guard);
              detach();
              server.core.log.error("shutdown failed", { err: (err as Error).message });
              resolve(1);
            },
          );
        };
        if (pending) onSignal(pending);
      });
    },
  };
}

export const reloadCommand: Command = {
  name: "reload",
  summary: "make the running server read its config file again (no session is dropped)",
  usage: ["reload"],
  details: ["Listeners, database, blob folder, plugin set and metrics listener need a restart; the rest applies at once."],
  async run(ctx, p) {
    positionals(p, []);
    const remote = await connectControl(controlSocketPath(ctx.globals.dataDir));
    if (!remote) throw new CommandError(`no running server answers at ${controlSocketPath(ctx.globals.dataDir)}: nothing to reload`);
    try {
      const r = await remote.reload();
      ctx.io.out(`reloaded: ${r.changed.length ? r.changed.join(", ") : "no change"}\n`);
      if (r.needsRestart.length) ctx.io.out(`needs a restart to apply: ${r.needsRestart.join(", ")}\n`);
    } catch (e) {
      throw e instanceof ControlCallError ? new CommandError(`reload refused, the running config stays in force: ${e.message}`) : e;
    } finally {
      remote.close();
    }
  },
};
