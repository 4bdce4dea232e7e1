// Helpers to build the single executable and drive it as a user would: spawn it, read the
// banner, connect to its listeners, signal it. Used by tests/cli and scripts/bench/startup.ts.
import { connect } from "node:net";
import { join } from "node:path";

const root = join(import.meta.dir, "..", "..");

/** Build the binary with scripts/build.ts (as `npm run build` does) to `outfile`, for
 *  this machine or `target` ("linux-arm64" …). */
export async function buildBinary(outfile: string, target?: string): Promise<string> {
  const proc = Bun.spawn([process.execPath, join(root, "scripts", "build.ts"), outfile, ...(target ? ["--target", target] : [])], { cwd: root, stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  if (code !== 0) throw new Error(`build failed (${code}): ${err || out}`);
  return outfile;
}

/** kotakpos from source, as an argv prefix for serve(): Bun running the composition root. */
export const SOURCE_CLI = [process.execPath, join(root, "main.ts")];

/** The standard ports (DESIGN.md "Listeners and TLS"). */
export const STANDARD_PORTS = [25, 587, 465, 143, 993, 110, 995, 80, 443];

/** Can we bind this port on 127.0.0.1 right now? */
export async function portFree(port: number): Promise<boolean> {
  try {
    const l = Bun.listen({ hostname: "127.0.0.1", port, socket: { data() {} } });
    l.stop(true);
    return true;
  } catch {
    return false;
  }
}

/** A random offset whose standard ports are all free. */
export async function freeOffset(): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const offset = 20000 + Math.floor(Math.random() * 38000);
    const frees = await Promise.all(STANDARD_PORTS.map((p) => portFree(offset + p)));
    if (frees.every(Boolean)) return offset;
  }
  throw new Error("no free port offset found");
}

/** Resolves when a TCP connection to the port succeeds (then closes it), rejects on error. */
export function tcpConnect(port: number, host = "127.0.0.1"): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = connect({ port, host }, () => {
      s.destroy();
      resolve();
    });
    s.on("error", reject);
  });
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Run a command of the binary to completion. */
export async function run(bin: string, args: string[], opts: { cwd: string; env?: Record<string, string>; stdin?: string }): Promise<RunResult> {
  const proc = Bun.spawn([bin, ...args], {
    cwd: opts.cwd,
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: opts.cwd, ...opts.env },
    stdin: opts.stdin === undefined ? "ignore" : new Blob([opts.stdin]),
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, stdout, stderr };
}

export interface BannerListener {
  name: string;
  address: string;
  port: number;
}

/** Listener lines of the start-up banner: "  smtp            127.0.0.1:10025". */
export function parseBanner(text: string): BannerListener[] {
  const out: BannerListener[] = [];
  for (const m of text.matchAll(/^ {2}(\S+)\s+(\S+):(\d+)\s*$/gm)) out.push({ name: m[1]!, address: m[2]!, port: Number(m[3]) });
  return out;
}

export interface Served {
  proc: Bun.Subprocess<"ignore", "pipe", "pipe">;
  /** Milliseconds from spawn to the banner. */
  bannerMs: number;
  banner: string;
  listeners: BannerListener[];
  /** stderr so far (log lines). */
  stderr(): string;
  /** Send a signal; resolves with the exit code and the milliseconds it took. */
  signal(sig: NodeJS.Signals): Promise<{ code: number; ms: number }>;
}

/** Start `serve` and wait for the banner (or the process to exit, or `timeoutMs`).
 *  `bin`: the executable, or an argv prefix (SOURCE_CLI: Bun on main.ts). */
export async function serve(bin: string | string[], args: string[], opts: { cwd: string; env?: Record<string, string>; timeoutMs?: number }): Promise<Served> {
  const t0 = performance.now();
  const proc = Bun.spawn([...(typeof bin === "string" ? [bin] : bin), "serve", ...args], {
    cwd: opts.cwd,
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: opts.cwd, ...opts.env },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  let err = "";
  void (async () => {
    const dec = new TextDecoder();
    for await (const chunk of proc.stderr) err += dec.decode(chunk, { stream: true });
  })();
  let out = "";
  const reader = proc.stdout.getReader();
  const dec = new TextDecoder();
  const deadline = setTimeout(() => proc.kill("SIGKILL"), opts.timeoutMs ?? 30_000);
  try {
    // The banner is one write, so the chunk holding its first line holds all of it.
    while (!out.includes("kotakpos ready")) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`serve exited (${await proc.exited}) before the banner: ${err.trim()}`);
      out += dec.decode(value, { stream: true });
    }
  } finally {
    clearTimeout(deadline);
  }
  const bannerMs = performance.now() - t0;
  // Keep draining stdout so the child never blocks on a full pipe.
  void (async () => {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      out += dec.decode(value, { stream: true });
    }
  })();
  return {
    proc,
    bannerMs,
    banner: out,
    listeners: parseBanner(out.slice(out.indexOf("kotakpos ready"))),
    stderr: () => err,
    async signal(sig) {
      const t = performance.now();
      proc.kill(sig);
      const code = await proc.exited;
      return { code, ms: performance.now() - t };
    },
  };
}
