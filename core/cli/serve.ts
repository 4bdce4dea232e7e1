// kotakpos serve — validate the config (exit 2 before binding anything), start the
// server, print the banner, stop gracefully on SIGTERM/SIGINT.
import { isIP } from "node:net";
import { startControlServer, type ControlServer } from "../control/server.ts";
import { startServer, type RunningServer } from "../server.ts";
import type { ReloadReport } from "../reload.ts";
import { intOption, positionals, str } from "./args.ts";
import type { Command } from "./command.ts";
import { controlSocketPath, loadCliConfig } from "./context.ts";
import { CommandError, UsageError } from "./errors.ts";
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
  ],
  options: { "port-offset": { type: "string" }, listen: { type: "string" } },
  async run(ctx, p) {
    positionals(p, []);
    const portOffset = intOption(p, "port-offset", 0, 60000);
    const address = str(p, "listen");
    if (address !== undefined && isIP(address) === 0) throw new UsageError(`--listen must be an IP address like 0.0.0.0, :: or 127.0.0.1, not "${address}"`);
    const overrides = { listen: { ...(address !== undefined && { address }), ...(portOffset !== undefined && { portOffset }) } };
    const { config, plugins } = await loadCliConfig(ctx, overrides);
    const signals = catchSignals();
    try {
      const server = await startServer({ dataDir: ctx.globals.dataDir, config, plugins, loadPluginDir: false, portOffset, listenAddress: address, banner: true });
      // kotakpos reload, SIGHUP (systemd ExecReload): the config file read again, applied in place.
      const reload = async (): Promise<ReloadReport> => server.reload((await loadCliConfig(ctx, overrides)).config);
      const onHup = () => void reload().catch((err: unknown) => server.core.log.error("config reload refused; the running config stays in force", { err: (err as Error).message }));
      process.on("SIGHUP", onHup);
      server.core.onShutdown(() => void process.off("SIGHUP", onHup));
      const control = await startControl(server, ctx.globals.dataDir, reload);
      return await signals.attach(server, config.listen.shutdownGraceSeconds, control);
    } catch (err) {
      signals.detach();
      throw err;
    }
  },
};

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
    attach(server: RunningServer, graceSeconds: number, control: ControlServer | null): Promise<number> {
      return new Promise((resolve) => {
        let stopping = false;
        onSignal = (sig) => {
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
            await control?.close();
            await server.stop();
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
