// A real `kotakpos serve` from source in its own process (and, with listen.processes > 1,
// its workers): temp data dir, every listener on a free port of 127.0.0.1, plaintext auth
// on loopback, the domains and users asked for made with the CLI before it starts. For
// tests and benchmarks that need separate processes (kill -9, SO_REUSEPORT, CPU of a tree).
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { serve, SOURCE_CLI, type Served } from "./binary.ts";
import { runCli } from "./cli.ts";
import { toToml } from "./toml.ts";

export interface ServeProcessOptions {
  /** listen.processes (default 1). */
  processes?: number | "auto";
  domains?: string[];
  users?: { address: string; password: string }[];
  /** Merged over the defaults below (one level deep per table). */
  config?: Record<string, unknown>;
  dataDir?: string;
  env?: Record<string, string>;
}

export interface ServeProcess {
  dataDir: string;
  served: Served;
  /** The primary's pid. */
  pid: number;
  port(name: string): number;
  /** Live worker pids (children of the primary running serve). */
  workerPids(): number[];
  /** Log lines so far (all processes share stderr). */
  stderr(): string;
  /** Signal the primary; resolves with its exit code. */
  stop(sig?: NodeJS.Signals): Promise<number>;
  /** Stop (SIGTERM) if running and remove the data dir. */
  cleanup(): Promise<void>;
}

const ALL_PORTS_FREE = { smtp: 0, submission: 0, submissions: 0, imap: 0, imaps: 0, pop3: 0, pop3s: 0, http: 0, https: 0 };

/** Pids whose parent is `pid` (from /proc). */
export function childPids(pid: number): number[] {
  const out: number[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const st = readFileSync(`/proc/${name}/stat`, "utf8");
      if (Number(st.slice(st.lastIndexOf(")") + 2).split(" ")[1]) === pid) out.push(Number(name));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** Is a process with this pid alive (and not a zombie)? */
export function alive(pid: number): boolean {
  try {
    const st = readFileSync(`/proc/${pid}/stat`, "utf8");
    return st.slice(st.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}

export async function startServeProcess(opts: ServeProcessOptions = {}): Promise<ServeProcess> {
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), "kotakpos-serve-"));
  const extra = opts.config ?? {};
  const cfg: Record<string, unknown> = {
    hostname: "mx.example.test",
    ...extra,
    listen: { address: "127.0.0.1", portOffset: 0, processes: opts.processes ?? 1, ...(extra.listen as object), ports: { ...ALL_PORTS_FREE, ...((extra.listen as { ports?: object })?.ports ?? {}) } },
    auth: { allowPlaintextOnLoopback: true, ...(extra.auth as object) },
    log: { level: process.env.KOTAKPOS_TEST_LOG ?? "error", ...(extra.log as object) },
  };
  writeFileSync(join(dataDir, "kotakpos.toml"), `${toToml(cfg)}\n`);
  const cli = async (args: string[], stdin?: string) => {
    const r = await runCli(dataDir, args, stdin);
    if (r.code !== 0) throw new Error(`kotakpos ${args.join(" ")}: ${r.err || r.out}`);
  };
  for (const d of opts.domains ?? ["example.test"]) await cli(["domain", "add", d]);
  for (const u of opts.users ?? []) await cli(["user", "add", u.address, "--password-stdin"], `${u.password}\n`);
  const served = await serve(SOURCE_CLI, ["--data", dataDir], { cwd: dataDir, env: { ...opts.env }, timeoutMs: 60_000 });
  const pid = served.proc.pid;
  let stopped = false;
  const stop = async (sig: NodeJS.Signals = "SIGTERM") => {
    stopped = true;
    return (await served.signal(sig)).code;
  };
  return {
    dataDir,
    served,
    pid,
    port(name) {
      const l = served.listeners.find((x) => x.name === name);
      if (!l) throw new Error(`no listener named ${name} in the banner`);
      return l.port;
    },
    workerPids: () => childPids(pid).filter((c) => readFileSync(`/proc/${c}/cmdline`, "utf8").includes("serve")),
    stderr: () => served.stderr(),
    stop,
    async cleanup() {
      if (!stopped && served.proc.exitCode === null) await stop("SIGTERM");
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
