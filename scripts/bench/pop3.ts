// POP3 RETR throughput: messages/s for 10 KiB messages, kotakpos beside Debian's
// dovecot-pop3d (when installed) on loopback, with the same raw-socket client.
// Prints ONE JSON line.  usage: bun scripts/bench/pop3.ts [--messages N] [--conns C]
// [--rounds R] [--no-dovecot]; BENCH_THREADS=1 prints kotakpos's CPU per thread to stderr.
// Server CPU per RETR is read by the client at the edges of each round's RETR window (after
// every session logged in, until the last response), so logins, QUIT and process exits
// are reported apart (sessionCpuMs), and the CPU per message times the rate must fit in the
// machine's cores (checked).
import { readFileSync } from "node:fs";
import * as net from "node:net";
import { availableParallelism } from "node:os";
import { processCpuSeconds, threadCpuSeconds, treeCpuSeconds } from "./lib/cpu.ts";
import { withDovecot } from "./lib/dovecot.ts";
import { startTestServer } from "../../tests/helpers/server.ts";
import { processesOption, serveBench } from "./lib/serve.ts";
import { arg } from "./lib/args.ts";

const PER_ACCOUNT = arg("messages", 2000);
const CONNS = arg("conns", 4);
const ROUNDS = arg("rounds", 5);
const SIZE = 10 * 1024;
const WINDOW = 32; // pipelined RETRs in flight per connection
const END = Buffer.from("\r\n.\r\n");
/** --processes N: the filled data directory served by `kotakpos serve` with N processes. */
const PROCESSES = processesOption();

/** The header lines kotakpos adds at delivery (Return-Path, Received), stored apart from
 *  the blob as the message's prefix (as SMTP delivery does), so a RETR reads both. */
function trace(n: number, account: number): string {
  return `Return-Path: <bench@example.test>\r\nReceived: from client.example.test (client.example.test [127.0.0.1])\r\n\tby mx.example.test (kotakpos) with ESMTP id b${account}x${n}\r\n\tfor <u${account}@example.test>;\r\n\tSun, 22 Nov 2026 03:00:00 +0000\r\n`;
}

/** The message as the client sent it; with its trace() lines it is SIZE octets. */
function message(n: number, account: number): string {
  const head = `${trace(n, account)}From: bench@example.test\r\nTo: u${account}@example.test\r\nSubject: bench ${account}/${n}\r\nMessage-ID: <b${account}.${n}@example.test>\r\nDate: Sun, 22 Nov 2026 03:00:00 +0000\r\n\r\n`;
  const line = "The quick brown fox jumps over the lazy dog 0123456789 abcdefghij\r\n";
  let body = "";
  while (head.length + body.length + line.length <= SIZE) body += line;
  return (head + body + "x".repeat(SIZE - head.length - body.length - 2) + "\r\n").slice(trace(n, account).length);
}

/** One session: log in, say ready, wait for `go` (all sessions logged in: argon2id logins
 *  are not what is measured), RETR every message with a pipelining window, QUIT. */
function retrAll(port: number, user: string, pass: string, count: number, go: Promise<void>, ready: () => void, finished: () => void): Promise<number> {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host: "127.0.0.1", port });
    sock.setNoDelay(true);
    sock.setTimeout(30_000, () => sock.destroy(new Error(`${phase}: no answer in 30 s`)));
    let phase: "greet" | "user" | "pass" | "retr" | "quit" = "greet";
    let pending = "";
    let tail: Buffer = Buffer.alloc(0);
    let sent = 0;
    let done = 0;
    let bytes = 0;
    const pump = () => {
      let batch = "";
      while (sent < count && sent - done < WINDOW) batch += `RETR ${++sent}\r\n`;
      if (batch) sock.write(batch);
    };
    sock.on("error", reject);
    sock.on("data", (chunk: Buffer) => {
      if (phase === "retr") {
        bytes += chunk.length;
        // Stuffed bodies never contain CRLF.CRLF: each one ends a response.
        const b = tail.length ? Buffer.concat([tail, chunk]) : chunk;
        for (let i = b.indexOf(END); i >= 0; i = b.indexOf(END, i + 3)) done++;
        tail = Buffer.from(b.subarray(Math.max(0, b.length - 4)));
        if (done === count) {
          finished();
          phase = "quit";
          sock.write("QUIT\r\n");
        } else pump();
        return;
      }
      pending += chunk.toString("latin1");
      if (!pending.endsWith("\r\n")) return;
      const line = pending;
      pending = "";
      if (!line.startsWith("+OK")) return reject(new Error(`${phase}: ${line.trim()}`));
      if (phase === "greet") (phase = "user"), sock.write(`USER ${user}\r\n`);
      else if (phase === "user") (phase = "pass"), sock.write(`PASS ${pass}\r\n`);
      else if (phase === "pass") {
        phase = "retr";
        ready();
        void go.then(pump);
      } else if (phase === "quit") sock.end(), resolve(bytes);
    });
  });
}

/** All sessions log in, then RETR at once; the clock and the server's CPU reading run from
 *  then until the last response of the last session (logins and QUITs are outside). */
async function round(
  port: number,
  users: string[],
  pass: string,
  count: number,
  cpu: () => number,
  mainCpu: () => number,
): Promise<{ seconds: number; bytes: number; cpuSeconds: number; mainSeconds: number }> {
  let release!: () => void;
  const go = new Promise<void>((r) => (release = r));
  let waiting = users.length;
  let running = users.length;
  let t0 = 0;
  let t1 = 0;
  let c0 = 0;
  let c1 = 0;
  let m0 = 0;
  let m1 = 0;
  const ready = () => {
    if (--waiting === 0) {
      c0 = cpu();
      m0 = mainCpu();
      t0 = performance.now();
      release();
    }
  };
  const finished = () => {
    if (--running === 0) {
      t1 = performance.now();
      c1 = cpu();
      m1 = mainCpu();
    }
  };
  const bytes = await Promise.all(users.map((u) => retrAll(port, u, pass, count, go, ready, finished)));
  return { seconds: (t1 - t0) / 1000, bytes: bytes.reduce((a, b) => a + b, 0), cpuSeconds: c1 - c0, mainSeconds: m1 - m0 };
}

interface Result {
  msgPerSec: number;
  mibPerSec: number;
  seconds: number;
  /** Server CPU per RETR over every timed round's window (sum of CPU / sum of RETRs). */
  serverCpuUsPerMsg: number;
  /** The same for the server's main thread alone (kotakpos in-process: its event loop, the
   *  one core a single process is bound by); null for a process tree. */
  mainThreadCpuUsPerMsg: number | null;
  /** Server CPU per wall second over those windows: at most the machine's cores. */
  serverCores: number;
  /** Server CPU outside the RETR windows, per session: connect, greeting, USER/PASS,
   *  opening the maildrop, QUIT and what follows it (Dovecot: the mail process's exit).
   *  Not part of serverCpuUsPerMsg; 0.3 s after the last round are included. */
  sessionCpuMs: number;
  rounds: { msgPerSec: number; cpuUsPerMsg: number; mainUsPerMsg?: number }[];
}

/** The client runs in its own process, as it would against Dovecot: it must not share
 *  the server's event loop. It reads the server's CPU (/proc of `pid`, or of its process
 *  tree) itself, at the edges of each round's RETR window. */
async function measure(port: number, users: string[], pass: string, pid: number, tree: boolean): Promise<Result> {
  const proc = Bun.spawn(
    [
      process.execPath,
      import.meta.path,
      "--client",
      String(port),
      "--messages",
      String(PER_ACCOUNT),
      "--rounds",
      String(ROUNDS),
      "--pass",
      pass,
      "--users",
      users.join(","),
      "--cpu-pid",
      String(pid),
      ...(tree ? ["--cpu-tree"] : []),
    ],
    { stdout: "pipe", stderr: "pipe" },
  );
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  if (code !== 0) throw new Error(`client failed: ${err.trim()}`);
  return JSON.parse(out) as Result;
}

async function client(port: number, users: string[], pass: string, cpu: () => number, mainCpu: (() => number) | null): Promise<Result> {
  const main = mainCpu ?? (() => 0);
  // Warm up with one whole round: a server that has been running a while (JIT-compiled
  // code, page cache) is what is measured, for both.
  await round(port, users, pass, PER_ACCOUNT, cpu, main);
  const rounds: Awaited<ReturnType<typeof round>>[] = [];
  const start = cpu();
  for (let r = 0; r < ROUNDS; r++) rounds.push(await round(port, users, pass, PER_ACCOUNT, cpu, main));
  await Bun.sleep(300);
  const total = cpu() - start;
  const n = users.length * PER_ACCOUNT;
  const best = rounds.reduce((a, b) => (b.seconds < a.seconds ? b : a));
  const cpuSum = rounds.reduce((a, r) => a + r.cpuSeconds, 0);
  const wallSum = rounds.reduce((a, r) => a + r.seconds, 0);
  const cores = cpuSum / wallSum;
  // The check: a server cannot use more CPU than the machine has (USER_HZ ticks: a little slack).
  if (cores > availableParallelism() * 1.05 + 0.02 / wallSum) throw new Error(`server CPU ${cores.toFixed(2)} cores > ${availableParallelism()}: the CPU accounting is wrong`);
  return {
    msgPerSec: Math.round(n / best.seconds),
    mibPerSec: Math.round((best.bytes / 1048576 / best.seconds) * 10) / 10,
    seconds: Math.round(best.seconds * 1000) / 1000,
    serverCpuUsPerMsg: Math.round((cpuSum * 1e6) / (n * rounds.length)),
    mainThreadCpuUsPerMsg: mainCpu ? Math.round((rounds.reduce((a, r) => a + r.mainSeconds, 0) * 1e6) / (n * rounds.length)) : null,
    serverCores: Math.round(cores * 100) / 100,
    sessionCpuMs: Math.round(((total - cpuSum) * 1e4) / (users.length * rounds.length)) / 10,
    rounds: rounds.map((r) => ({
      msgPerSec: Math.round(n / r.seconds),
      cpuUsPerMsg: Math.round((r.cpuSeconds * 1e6) / n),
      ...(mainCpu ? { mainUsPerMsg: Math.round((r.mainSeconds * 1e6) / n) } : {}),
    })),
  };
}

const users = Array.from({ length: CONNS }, (_, i) => `u${i}@example.test`);

async function benchKotakpos() {
  const server = await startTestServer({ users: users.map((address) => ({ address, password: "bench-pw" })), keepData: PROCESSES !== null });
  try {
    const store = server.core.store;
    for (let a = 0; a < users.length; a++) {
      const acct = await store.getAccount(users[a]!);
      const inbox = await store.getMailbox(acct!.id, "INBOX");
      for (let n = 1; n <= PER_ACCOUNT; n += 50) {
        const batch = [];
        for (let k = n; k < n + 50 && k <= PER_ACCOUNT; k++) batch.push(store.append(inbox!.id, Buffer.from(message(k, a)), { prefix: [trace(k, a)] }));
        await Promise.all(batch);
      }
    }
    if (PROCESSES) {
      await server.stop();
      const served = await serveBench(server.dataDir, PROCESSES);
      try {
        // The primary and its workers: a process tree.
        return await measure(served.port("pop3"), users, "bench-pw", served.pid, true);
      } finally {
        await served.cleanup();
      }
    }
    const th0 = threadCpuSeconds();
    const res = await measure(server.port("pop3"), users, "bench-pw", process.pid, false);
    const th1 = threadCpuSeconds();
    if (process.env.BENCH_THREADS) console.error(JSON.stringify(Object.fromEntries(Object.entries(th1).map(([k, v]) => [k, Math.round((v - (th0[k] ?? 0)) * 100) / 100]))));
    return res;
  } finally {
    await server.cleanup();
  }
}

/** Debian's Dovecot on loopback (scripts/bench/lib/dovecot.ts) with the same client. */
function benchDovecot() {
  return withDovecot(
    {
      protocol: "pop3",
      users,
      password: "bench-pw",
      // High-performance mode (as imap.ts): login processes serve many connections.
      loginConf: "  service_count = 0\n  process_min_avail = 2",
      messages: (_u, a) =>
        Array.from({ length: PER_ACCOUNT }, (_, i) => [`${1700000000 + i + 1}.M${i + 1}P1.bench,S=${SIZE}:2,`, trace(i + 1, a) + message(i + 1, a)] as [string, string | Uint8Array]),
    },
    (port, pid) => measure(port, users, "bench-pw", pid, true),
  );
}

const strArg = (name: string) => process.argv[process.argv.indexOf(`--${name}`) + 1]!;
if (process.argv.includes("--client")) {
  const pid = arg("cpu-pid", 0);
  const cpu = process.argv.includes("--cpu-tree") ? () => treeCpuSeconds(pid) : () => processCpuSeconds(pid);
  // The main thread's own run time (schedstat: exact, not 10 ms ticks).
  const mainCpu = process.argv.includes("--cpu-tree") ? null : () => Number(readFileSync(`/proc/${pid}/task/${pid}/schedstat`, "utf8").split(" ")[0]) / 1e9;
  console.log(JSON.stringify(await client(arg("client", 0), strArg("users").split(","), strArg("pass"), cpu, mainCpu)));
} else {
  const kotakpos = await benchKotakpos();
  const dovecot = process.argv.includes("--no-dovecot") ? null : await benchDovecot();
  console.log(
    JSON.stringify({
      bench: "pop3-retr",
      processes: PROCESSES ?? "in-process",
      messageBytes: SIZE,
      connections: CONNS,
      messagesPerConnection: PER_ACCOUNT,
      pipelineWindow: WINDOW,
      kotakpos,
      dovecot,
      ratio: dovecot && "msgPerSec" in dovecot ? Math.round((kotakpos.msgPerSec / dovecot.msgPerSec) * 100) / 100 : null,
      cpuRatio: dovecot && "serverCpuUsPerMsg" in dovecot ? Math.round((dovecot.serverCpuUsPerMsg / kotakpos.serverCpuUsPerMsg) * 100) / 100 : null,
    }),
  );
}
