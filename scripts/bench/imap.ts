// IMAP load: N clients each looping SELECT, FETCH (flags, envelope, bodystructure, a full
// body), SEARCH, STORE, APPEND, EXPUNGE → operations/s and latency percentiles; then the
// server's RSS with 1,000 idle IDLE connections. kotakpos runs in a child process (so its
// RSS is its own); Debian's Dovecot (when installed) gets the same load in the same run.
// Prints ONE JSON line.
// --soak MINUTES then keeps the same load on kotakpos for that long (sessions log in and
// out every 30 s) and reports its RSS after a full collection every 30 s: the growth over
// a 10-minute mixed load (issue 18) is `soakGrowthMiB`, from the 1-minute sample to the end.
// usage: bun scripts/bench/imap.ts [--clients N] [--seconds S] [--rounds R] [--messages M] [--idle I]
//        [--soak MINUTES] [--breakdown LOOPS] [--warmup SECONDS] [--logins] [--no-dovecot] [--no-kotakpos]
//        [--idle-only] [--concurrent-breakdown LOOPS]
// --idle-only: no load (and no Dovecot), only the idle sessions: JS heap and RSS they add,
// per session too (e.g. `--idle-only --messages 1000`: 1,000 sessions on 1,000-message mailboxes);
// `idleSessionsHeapCapacityMiB` is the growth of the heap's committed size (live objects plus
// the GC's fragmentation and headroom), which the RSS follows. IMAP_BENCH_TYPES=1 prints the
// live objects gained by type on stderr; IMAP_BENCH_SNAP=PREFIX writes heap snapshots.
// --breakdown LOOPS: after the load, ONE client runs the mix LOOPS times alone and each
// command's server CPU is read exactly (schedstat) around it: `cpuPerCommandUs` (LIST and
// STATUS, of the mix, too); for kotakpos also its main thread's alone: `mainCpuPerCommandUs`.
// --concurrent-breakdown LOOPS: the same per command, but every client runs each kind of
// command LOOPS times at once (the event loop's wake-ups and the group commit shared, as
// under the load): `concurrentCpuPerCommandUs` (kotakpos: "main/all threads" µs); the
// APPEND, NOOP, STORE \Deleted, EXPUNGE chain is one `append_cycle`.
// --warmup SECONDS of load before the measured rounds (default 0.3): kotakpos's JIT is
// still compiling in the first 10-25 s, which a long-running server has behind it.
// --logins: each client's loop is a new session (connect, LOGIN, the commands, LOGOUT), the
// issue's "mixed load with logins"; without it one long session per client.
import { readFileSync } from "node:fs";
import { cpuMeterNs, processCpuSeconds, threadCpuSeconds, treeCpuSeconds } from "./lib/cpu.ts";
import { processesOption, serveBench } from "./lib/serve.ts";
import { freePort, withDovecot } from "./lib/dovecot.ts";
import { Client } from "./lib/imap-client.ts";
import * as net from "node:net";
import { join } from "node:path";
import { arg } from "./lib/args.ts";

const CLIENTS = arg("clients", 10);
const SECONDS = arg("seconds", 6);
const ROUNDS = arg("rounds", 2);
const MESSAGES = arg("messages", 200);
const IDLE = arg("idle", 1000);
const SOAK_MINUTES = arg("soak", 0);
const LOGINS = process.argv.includes("--logins");
const IDLE_ONLY = process.argv.includes("--idle-only");
/** --processes N: the filled data directory served by `kotakpos serve` with N processes. */
const PROCESSES = processesOption();
const BREAKDOWN = arg("breakdown", 0);
const CONCURRENT = arg("concurrent-breakdown", 0);
const WARMUP = arg("warmup", 0.3);
const PASS = "bench-pw";
const users = Array.from({ length: CLIENTS }, (_, i) => `u${i}@example.test`);

function message(n: number, account: number): string {
  const head =
    `From: Sender ${n % 7} <sender${n % 7}@example.test>\r\nTo: u${account}@example.test\r\nSubject: report ${n} ${n % 3 ? "weekly" : "monthly"}\r\n` +
    `Message-ID: <b${account}.${n}.${Math.random().toString(36).slice(2)}@example.test>\r\nDate: Sun, 22 Nov 2026 03:00:00 +0000\r\nMIME-Version: 1.0\r\n`;
  const line = "The quick brown fox jumps over the lazy dog 0123456789 abcdefghij\r\n";
  if (n % 2) return head + "Content-Type: text/plain; charset=utf-8\r\n\r\n" + line.repeat(60);
  return (
    head +
    'Content-Type: multipart/mixed; boundary="bb"\r\n\r\n--bb\r\nContent-Type: text/plain\r\n\r\n' +
    line.repeat(30) +
    "--bb\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
    "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo=\r\n".repeat(30) +
    "--bb--\r\n"
  );
}

// ---------- the kotakpos server, in a child process ----------

if (process.argv.includes("--serve")) {
  const { startTestServer } = await import("../../tests/helpers/server.ts");
  const listen = { maxConnectionsPerIp: IDLE + CLIENTS * 4 + 100 };
  const server = await startTestServer({ users: users.map((address) => ({ address, password: PASS })), config: { listen }, keepData: PROCESSES !== null });
  const store = server.core.store;
  for (let a = 0; a < users.length; a++) {
    const acct = await store.getAccount(users[a]!);
    const inbox = await store.getMailbox(acct!.id, "INBOX");
    for (let n = 1; n <= MESSAGES; n += 50) {
      const batch = [];
      for (let k = n; k < n + 50 && k <= MESSAGES; k++) batch.push(store.append(inbox!.id, Buffer.from(message(k, a)), { flags: k % 4 ? ["\\Seen"] : [] }));
      await Promise.all(batch);
    }
  }
  if (PROCESSES) {
    await server.stop();
    const served = await serveBench(server.dataDir, PROCESSES, { listen });
    console.log(JSON.stringify({ port: served.port("imap"), pid: served.pid, tree: true }));
    process.on("SIGTERM", () => void served.cleanup().then(() => process.exit(0)));
    // "rss": the processes' resident sets (no forced GC across processes).
    for await (const line of console) if (line.trim() === "rss") console.log(JSON.stringify({ rssMiB: served.rssMiB(), heapMiB: 0 }));
  }
  console.log(JSON.stringify({ port: server.port("imap"), pid: process.pid }));
  process.on("SIGTERM", () => void server.cleanup().then(() => process.exit(0)));
  // "rss" on stdin: collect garbage, then report the resident set size.
  let lastTypes: Record<string, number> = {};
  let snaps = 0;
  for await (const line of console) {
    if (line.trim() !== "rss") continue;
    Bun.gc(true);
    await Bun.sleep(100);
    Bun.gc(true);
    const { heapStats } = await import("bun:jsc");
    const stats = heapStats();
    // IMAP_BENCH_TYPES=1: on stderr, the live objects by type gained since the last "rss"
    // (after the idle sessions: what each one holds).
    if (process.env.IMAP_BENCH_TYPES) {
      const delta = Object.entries(stats.objectTypeCounts)
        .map(([k, n]) => [k, n - (lastTypes[k] ?? 0)] as const)
        .filter(([, d]) => d !== 0)
        .sort((a, b) => b[1] - a[1]);
      console.error(JSON.stringify({ objectTypesGained: Object.fromEntries(delta.slice(0, 40)) }));
      lastTypes = stats.objectTypeCounts;
      // IMAP_BENCH_SNAP=PREFIX: also a heap snapshot per "rss", PREFIX.N.json.
      if (process.env.IMAP_BENCH_SNAP) await Bun.write(`${process.env.IMAP_BENCH_SNAP}.${snaps++}.json`, JSON.stringify(Bun.generateHeapSnapshot()));
    }
    const mib = (b: number) => Math.round((b / 1048576) * 1000) / 1000;
    console.log(JSON.stringify({ rssMiB: Math.round((process.memoryUsage().rss / 1048576) * 10) / 10, heapMiB: mib(stats.heapSize), heapCapacityMiB: mib(stats.heapCapacity) }));
  }
  await new Promise(() => {});
}

// ---------- the load ----------

type OpName = "login" | "select" | "fetch_flags" | "fetch_envelope" | "fetch_bodystructure" | "fetch_body" | "search" | "store" | "append" | "expunge";

/** One loop of the mix after LOGIN (issue 18's load): `time` runs the commands the load
 *  times, `other` the two it sends untimed (NOOP to take its own APPEND's EXISTS, the
 *  STORE \Deleted before EXPUNGE) — the breakdown charges those too. */
async function mixOnce(i: number, account: number, time: (op: OpName, command: string) => Promise<string>, other: (op: "noop" | "store_deleted", command: string) => Promise<string>): Promise<void> {
  const sel = await time("select", "SELECT INBOX");
  const exists = Number(/\* (\d+) EXISTS/.exec(sel)?.[1] ?? 0);
  const k = 1 + ((i * 37) % Math.max(1, exists));
  const from = Math.max(1, exists - 49);
  await time("fetch_flags", "FETCH 1:* (UID FLAGS)");
  await time("fetch_envelope", `FETCH ${from}:* (UID ENVELOPE RFC822.SIZE INTERNALDATE)`);
  await time("fetch_bodystructure", `FETCH ${from}:* (BODYSTRUCTURE)`);
  await time("fetch_body", `FETCH ${k} (BODY.PEEK[])`);
  await time("search", i % 2 ? "SEARCH UNSEEN" : `SEARCH OR FROM sender3 SUBJECT monthly`);
  await time("store", `STORE ${k} ${i % 2 ? "+" : "-"}FLAGS (\\Flagged)`);
  const m = message(i, account);
  await time("append", `APPEND INBOX (\\Seen) {${m.length}+}\r\n${m}`);
  await other("noop", "NOOP");
  await other("store_deleted", `STORE ${exists + 1} +FLAGS.SILENT (\\Deleted)`);
  await time("expunge", "EXPUNGE");
}

async function clientLoop(port: number, user: string, account: number, until: number, lat: Record<OpName, number[]>): Promise<void> {
  let c = await Client.open(port);
  await c.cmd(`LOGIN ${user} ${PASS}`);
  let i = 0;
  const time = async (op: OpName, command: string) => {
    const t0 = performance.now();
    const out = await c.cmd(command);
    lat[op].push(performance.now() - t0);
    return out;
  };
  while (performance.now() < until) {
    i++;
    if (LOGINS && i > 1) {
      // The load with logins: every loop is a new session (connect, LOGIN … LOGOUT).
      await c.cmd("LOGOUT").catch(() => "");
      c.close();
      const t0 = performance.now();
      c = await Client.open(port);
      await c.cmd(`LOGIN ${user} ${PASS}`);
      lat.login.push(performance.now() - t0);
    }
    await mixOnce(i, account, time, (_op, command) => c.cmd(command));
  }
  await c.cmd("LOGOUT").catch(() => "");
  c.close();
}

/** One client alone runs the mix LOOPS times; the server CPU (µs, exact) of each command. */
async function breakdown(port: number, meter: () => () => number, mainPid?: number): Promise<{ all: Record<string, number>; main?: Record<string, number> }> {
  const c = await Client.open(port);
  await c.cmd(`LOGIN ${users[0]} ${PASS}`);
  const cpu = meter();
  // The main thread alone (kotakpos: the event loop, what one process's rate is bound by).
  const main = mainPid ? () => Number(readFileSync(`/proc/${mainPid}/task/${mainPid}/schedstat`, "utf8").split(" ")[0]) : null;
  const sum: Record<string, number> = {};
  const mainSum: Record<string, number> = {};
  const count: Record<string, number> = {};
  const time = async (op: string, command: string) => {
    const m0 = main?.() ?? 0;
    const t0 = cpu();
    const out = await c.cmd(command);
    sum[op] = (sum[op] ?? 0) + cpu() - t0;
    if (main) mainSum[op] = (mainSum[op] ?? 0) + main() - m0;
    count[op] = (count[op] ?? 0) + 1;
    return out;
  };
  for (let i = 1; i <= BREAKDOWN; i++) {
    await time("list", 'LIST "" "*"');
    await time("status", "STATUS INBOX (MESSAGES UNSEEN UIDNEXT)");
    await mixOnce(i, 0, time, time);
  }
  await c.cmd("LOGOUT").catch(() => "");
  c.close();
  const perCommand = (s: Record<string, number>) => {
    const out: Record<string, number> = {};
    let loop = 0;
    for (const op of Object.keys(s)) {
      out[op] = Math.round(s[op]! / count[op]! / 1000);
      if (op !== "list" && op !== "status") loop += s[op]! / count[op]!;
    }
    // The load's loop (no LIST/STATUS) over its 9 timed commands, as serverCpuMsPerOp counts it.
    out.loopPerTimedCommand = Math.round(loop / 1000 / 9);
    return out;
  };
  return { all: perCommand(sum), ...(main && { main: perCommand(mainSum) }) };
}

/** Every client runs each kind of command LOOPS times concurrently; server CPU per
 *  command (kotakpos: main thread / all threads, µs). */
async function concurrentBreakdown(port: number, all: () => () => number, mainPid?: number): Promise<Record<string, string | number>> {
  const clients = await Promise.all(
    users.map(async (u) => {
      const c = await Client.open(port);
      await c.cmd(`LOGIN ${u} ${PASS}`);
      await c.cmd("SELECT INBOX");
      return c;
    }),
  );
  const m = message(7, 0);
  const kinds: [string, number, (c: Client, i: number) => Promise<unknown>][] = [
    ["noop", 1, (c) => c.cmd("NOOP")],
    ["select", 1, (c) => c.cmd("SELECT INBOX")],
    ["fetch_flags", 1, (c) => c.cmd("FETCH 1:* (UID FLAGS)")],
    ["fetch_envelope", 1, (c) => c.cmd(`FETCH ${MESSAGES - 49}:* (UID ENVELOPE RFC822.SIZE INTERNALDATE)`)],
    ["fetch_bodystructure", 1, (c) => c.cmd(`FETCH ${MESSAGES - 49}:* (BODYSTRUCTURE)`)],
    ["fetch_body", 1, (c, i) => c.cmd(`FETCH ${1 + ((i * 37) % MESSAGES)} (BODY.PEEK[])`)],
    ["search", 1, (c, i) => c.cmd(i % 2 ? "SEARCH UNSEEN" : "SEARCH OR FROM sender3 SUBJECT monthly")],
    ["store", 1, (c, i) => c.cmd(`STORE ${1 + (i % MESSAGES)} ${Math.floor(i / MESSAGES) % 2 ? "-" : "+"}FLAGS (\\Flagged)`)],
    [
      "append_cycle",
      4,
      async (c) => {
        await c.cmd(`APPEND INBOX (\\Seen) {${m.length}+}\r\n${m}`);
        await c.cmd("NOOP");
        await c.cmd("STORE * +FLAGS.SILENT (\\Deleted)");
        await c.cmd("EXPUNGE");
      },
    ],
  ];
  const main = mainPid ? () => Number(readFileSync(`/proc/${mainPid}/task/${mainPid}/schedstat`, "utf8").split(" ")[0]) : null;
  const out: Record<string, string | number> = {};
  for (const [name, commands, f] of kinds) {
    const n = clients.length * CONCURRENT * commands;
    const cpu = all();
    const m0 = main?.() ?? 0;
    const t0 = cpu();
    await Promise.all(
      clients.map(async (c) => {
        for (let i = 0; i < CONCURRENT; i++) await f(c, i);
      }),
    );
    const a = Math.round((cpu() - t0) / n / 1000);
    out[name] = main ? `${Math.round((main() - m0) / n / 1000)}/${a}` : a;
  }
  for (const c of clients) {
    await c.cmd("LOGOUT").catch(() => "");
    c.close();
  }
  return out;
}

function pct(xs: number[], p: number): number {
  if (!xs.length) return 0;
  const s = [...xs].sort((a, b) => a - b);
  return Math.round(s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]! * 100) / 100;
}

async function load(port: number, cpu?: () => number, threads?: () => Record<string, number>) {
  // Warm-up: the load for WARMUP seconds first. kotakpos's JIT compiles for the first
  // ~10-25 s of load (its JITWorker thread took 20-35 % of the server's CPU then, < 10 %
  // after): a long-running server's CPU per command is the figure after that.
  const warm = Object.fromEntries(
    ["login", "select", "fetch_flags", "fetch_envelope", "fetch_bodystructure", "fetch_body", "search", "store", "append", "expunge"].map((k) => [k, [] as number[]]),
  ) as Record<OpName, number[]>;
  await Promise.all(users.map((u, a) => clientLoop(port, u, a, performance.now() + WARMUP * 1000, warm)));
  // Best of ROUNDS (the machine may be shared): each round is SECONDS long.
  let best: { secs: number; lat: Record<OpName, number[]>; n: number; cpu: number; byThread?: Record<string, number> } | null = null;
  for (let r = 0; r < ROUNDS; r++) {
    const lat = Object.fromEntries(Object.keys(warm).map((k) => [k, [] as number[]])) as Record<OpName, number[]>;
    const c0 = cpu?.() ?? 0;
    const th0 = threads?.();
    const t0 = performance.now();
    await Promise.all(users.map((u, a) => clientLoop(port, u, a, t0 + SECONDS * 1000, lat)));
    const secs = (performance.now() - t0) / 1000;
    const n = Object.values(lat).flat().length;
    const th1 = threads?.();
    const byThread = th0 && th1 ? Object.fromEntries(Object.entries(th1).map(([k, v]) => [k, Math.round(((v - (th0[k] ?? 0)) / n) * 1e5) / 100])) : undefined;
    if (!best || n / secs > best.n / best.secs) best = { secs, lat, n, cpu: (cpu?.() ?? 0) - c0, byThread };
  }
  const { secs, lat } = best!;
  const all = Object.values(lat).flat();
  return {
    rounds: ROUNDS,
    opsPerSec: Math.round(all.length / secs),
    ops: all.length,
    p50Ms: pct(all, 50),
    p99Ms: pct(all, 99),
    // Server CPU per operation (Dovecot: its whole process tree): steadier than ops/s on a shared machine.
    ...(cpu ? { serverCpuMsPerOp: Math.round((best!.cpu / all.length) * 1e5) / 100 } : {}),
    // kotakpos: the same split by thread (main, the JIT's JITWorker, the blob Worker, Bun's pool …).
    ...(best!.byThread && { serverCpuMsPerOpByThread: best!.byThread }),
    perOp: Object.fromEntries(Object.entries(lat).map(([k, v]) => [k, { n: v.length, p50Ms: pct(v, 50), p99Ms: pct(v, 99) }])),
  };
}

function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Math.round((Number(m[1]) / 1024) * 10) / 10 : 0;
}

async function idleConnections(port: number, count: number): Promise<Client[]> {
  const out: Client[] = [];
  for (let i = 0; i < count; i += 50) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(50, count - i) }, async (_, j) => {
        const c = await Client.open(port);
        await c.cmd(`LOGIN ${users[(i + j) % users.length]} ${PASS}`);
        await c.cmd("SELECT INBOX");
        await c.idle();
        return c;
      }),
    );
    out.push(...batch);
  }
  return out;
}

/** The mixed load for SOAK_MINUTES in 30-second stretches, the RSS after each. */
async function soakRss(port: number, rss: () => Promise<number>, heap: () => number): Promise<{ minute: number; rssMiB: number; heapMiB: number }[]> {
  const t0 = performance.now();
  const end = t0 + SOAK_MINUTES * 60_000;
  const out = [{ minute: 0, rssMiB: await rss(), heapMiB: heap() }];
  while (performance.now() < end) {
    const lat = Object.fromEntries(
      ["login", "select", "fetch_flags", "fetch_envelope", "fetch_bodystructure", "fetch_body", "search", "store", "append", "expunge"].map((k) => [k, [] as number[]]),
    ) as Record<OpName, number[]>;
    const until = Math.min(end, performance.now() + 30_000);
    await Promise.all(users.map((u, a) => clientLoop(port, u, a, until, lat)));
    out.push({ minute: Math.round(((performance.now() - t0) / 60_000) * 10) / 10, rssMiB: await rss(), heapMiB: heap() });
  }
  return out;
}

/** Growth from the first sample at or after one minute (caches warm) to the last: of the
 *  RSS, and of the live JS heap (after a full collection; RSS also holds freed pages). */
function soakGrowth(samples: { minute: number; rssMiB: number; heapMiB: number }[], key: "rssMiB" | "heapMiB"): number {
  const from = samples.find((s) => s.minute >= 1) ?? samples[0]!;
  return Math.round((samples.at(-1)![key] - from[key]) * 10) / 10;
}

async function benchKotakpos() {
  // IMAP_BENCH_PROF=DIR: a CPU profile of the server child (IMAP_BENCH_PROF_MD=1: as Markdown).
  const prof = process.env.IMAP_BENCH_PROF ? [process.env.IMAP_BENCH_PROF_MD ? "--cpu-prof-md" : "--cpu-prof", `--cpu-prof-dir=${process.env.IMAP_BENCH_PROF}`] : [];
  const child = Bun.spawn([process.execPath, ...prof, import.meta.path, "--serve", ...process.argv.slice(2)], { stdin: "pipe", stdout: "pipe", stderr: "inherit" });
  const reader = child.stdout.getReader();
  let text = "";
  const nextLine = async (): Promise<string> => {
    while (!text.includes("\n")) {
      const { value, done } = await reader.read();
      if (done) throw new Error("server child exited");
      text += new TextDecoder().decode(value);
    }
    const i = text.indexOf("\n");
    const line = text.slice(0, i);
    text = text.slice(i + 1);
    return line;
  };
  // RSS after a full garbage collection in the server.
  let heapMiB = 0; // the JS heap's live size at the last rss() (RSS also holds freed pages)
  let heapCapacityMiB = 0; // the heap's committed size (what its share of RSS follows)
  const rss = async (): Promise<number> => {
    child.stdin.write("rss\n");
    child.stdin.flush();
    const r = JSON.parse(await nextLine()) as { rssMiB: number; heapMiB: number; heapCapacityMiB?: number };
    heapMiB = r.heapMiB;
    heapCapacityMiB = r.heapCapacityMiB ?? 0;
    return r.rssMiB;
  };
  const { port, pid, tree } = JSON.parse(await nextLine()) as { port: number; pid: number; tree?: boolean };
  try {
    const rssStart = await rss();
    // A served process tree (--processes): the primary and its workers (per-thread CPU
    // and the breakdown are of the primary only).
    const result: Partial<Awaited<ReturnType<typeof load>>> = IDLE_ONLY
      ? {}
      : await load(
          port,
          () => (tree ? treeCpuSeconds(pid) : processCpuSeconds(pid)),
          () => threadCpuSeconds(pid),
        );
    const bd = BREAKDOWN && !IDLE_ONLY ? await breakdown(port, () => cpuMeterNs(pid), tree ? undefined : pid) : undefined;
    const cpuPerCommandUs = bd?.all;
    const mainCpuPerCommandUs = bd?.main;
    const concurrentCpuPerCommandUs = CONCURRENT && !IDLE_ONLY ? await concurrentBreakdown(port, () => cpuMeterNs(pid), tree ? undefined : pid) : undefined;
    const rssAfterLoad = tree ? await rss() : rssMiB(pid);
    const rssBeforeIdle = await rss();
    const heapBeforeIdle = heapMiB;
    const capacityBeforeIdle = heapCapacityMiB;
    const idle = await idleConnections(port, IDLE);
    await Bun.sleep(500);
    const rssIdle = await rss();
    const heapDeltaMiB = heapMiB - heapBeforeIdle;
    const idleSessionsHeapMiB = Math.round(heapDeltaMiB * 10) / 10;
    for (const c of idle) c.close();
    const soak = SOAK_MINUTES > 0 ? await soakRss(port, rss, () => heapMiB) : null;
    return {
      ...result,
      ...(cpuPerCommandUs && { cpuPerCommandUs }),
      ...(mainCpuPerCommandUs && { mainCpuPerCommandUs }),
      ...(concurrentCpuPerCommandUs && { concurrentCpuPerCommandUs }),
      rssStartMiB: rssStart,
      rssAfterLoadMiB: rssAfterLoad,
      idleConnections: IDLE,
      rssBeforeIdleMiB: rssBeforeIdle,
      rssWithIdleMiB: rssIdle,
      idleSessionsMiB: Math.round((rssIdle - rssBeforeIdle) * 10) / 10,
      idleSessionsHeapMiB,
      idleSessionsHeapCapacityMiB: Math.round((heapCapacityMiB - capacityBeforeIdle) * 10) / 10,
      idleSessionHeapBytes: Math.round((heapDeltaMiB * 1048576) / IDLE),
      idleSessionRssBytes: Math.round(((rssIdle - rssBeforeIdle) * 1048576) / IDLE),
      ...(soak && { soakMinutes: SOAK_MINUTES, rssOverTimeMiB: soak, soakGrowthMiB: soakGrowth(soak, "rssMiB"), soakHeapGrowthMiB: soakGrowth(soak, "heapMiB") }),
    };
  } finally {
    child.kill("SIGTERM");
    await child.exited;
  }
}

/** Debian's Dovecot on loopback (scripts/bench/lib/dovecot.ts) under the same load. */
function benchDovecot() {
  return withDovecot(
    {
      protocol: "imap",
      users,
      password: PASS,
      messages: (_u, a) =>
        Array.from({ length: MESSAGES }, (_, i) => {
          const n = i + 1;
          const m = message(n, a);
          return [`${1700000000 + n}.M${n}P1.bench,S=${m.length}:2,${n % 4 ? "S" : ""}`, m] as [string, string | Uint8Array];
        }),
      // High-performance mode (issue 18): login processes serve many clients and live on.
      loginConf: `  service_count = 0\n  process_min_avail = 2\n  client_limit = ${IDLE + 200}`,
      extraConf: `service imap {\n  process_limit = ${IDLE + 200}\n}\ndefault_client_limit = ${IDLE + 400}`,
    },
    async (port, pid) => {
      const result = await load(port, () => treeCpuSeconds(pid));
      const withBreakdown = BREAKDOWN ? { ...result, cpuPerCommandUs: (await breakdown(port, () => cpuMeterNs(pid, true))).all } : result;
      return CONCURRENT ? { ...withBreakdown, concurrentCpuPerCommandUs: await concurrentBreakdown(port, () => cpuMeterNs(pid, true)) } : withBreakdown;
    },
  );
}

const kotakpos = process.argv.includes("--no-kotakpos") ? null : await benchKotakpos();
const dovecot = process.argv.includes("--no-dovecot") || IDLE_ONLY ? null : await benchDovecot();
console.log(
  JSON.stringify({
    bench: "imap",
    sessions: LOGINS ? "login per loop" : "long",
    processes: PROCESSES ?? "in-process",
    clients: CLIENTS,
    seconds: SECONDS,
    warmupSeconds: WARMUP,
    messagesPerMailbox: MESSAGES,
    kotakpos,
    dovecot,
    // kotakpos ÷ Dovecot ops/s, and Dovecot ÷ kotakpos server CPU per op (> 1: kotakpos cheaper).
    ratio: kotakpos?.opsPerSec && dovecot && "opsPerSec" in dovecot ? Math.round((kotakpos.opsPerSec / dovecot.opsPerSec) * 100) / 100 : null,
    cpuRatio:
      kotakpos?.serverCpuMsPerOp && dovecot && "serverCpuMsPerOp" in dovecot && dovecot.serverCpuMsPerOp ? Math.round((dovecot.serverCpuMsPerOp / kotakpos.serverCpuMsPerOp) * 100) / 100 : null,
  }),
);
