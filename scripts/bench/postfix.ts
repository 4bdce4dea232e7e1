// SMTP comparison benchmark (issue 3, "Benchmark"): Debian's Postfix delivering to a
// Maildir against kotakpos delivering to its mailbox store, the same load from the same
// client (Postfix's smtp-source) in the same run, on 127.0.0.1 only.
//
// For each mode — smtp-source's default (a new connection per message) and `-d` (20
// persistent connections) — Postfix runs first, then kotakpos:
//   postfix:  msg/s until smtp-source finishes (queued: fsynced to Postfix's queue) and
//             until every message is in Maildir/new (delivered: what kotakpos's 250 means)
//   kotakpos: msg/s until smtp-source finishes (each 250 = blob fsynced + row committed)
// ratio = kotakpos / postfix delivered; ratioVsQueued = kotakpos / postfix queued (the
// stricter figure). Postfix gets its own config dir, queue and Maildir in a temp dir,
// listens on a free high port, and is stopped (and the dir removed) before exit.
// Needs root (postfix start) and the postfix package. Prints ONE JSON line.
// Env: BENCH_MESSAGES (5000), BENCH_WARMUP (min(200, messages/10)), BENCH_CONNECTIONS (20), BENCH_SIZE (10240), BENCH_ROUNDS (3,
// alternating Postfix and kotakpos; medians reported), BENCH_DIR (tmp),
// BENCH_KEEP=1 keeps the temp dir (Postfix's maillog) for debugging, BENCH_CHECKS=1 runs
// kotakpos with the mailauth plugin on (SPF of MAIL FROM and HELO, DKIM — smtp-source signs
// nothing: dkim=none —, ARC, DMARC passing by aligned SPF) against a local authoritative
// DNS server (lib/sender-dns.ts); Postfix stays as shipped (it checks nothing).
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { builtinPlugins } from "../../plugins/index.ts";
import { processCpuSeconds, threadCpuSeconds, treeCpuSeconds } from "./lib/cpu.ts";
import { startSenderDns, type SenderDns } from "./lib/sender-dns.ts";
import { startTestServer, type TestServer } from "../../tests/helpers/server.ts";
import { processesOption, serveBench, type BenchServe } from "./lib/serve.ts";

const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 5000);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 20);
const SIZE = Number(process.env.BENCH_SIZE ?? 10240);
/** Messages sent before each measured run. kotakpos's JIT keeps tiering hot functions up
 *  (FTL) for several thousand messages; a larger BENCH_WARMUP (e.g. 6000) measures closer to
 *  the steady state. */
const WARMUP = Number(process.env.BENCH_WARMUP ?? Math.min(200, Math.floor(MESSAGES / 10)));
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const RCPT = "bench@example.test";
const FROM = "load@remote.test";
const CHECKS = process.env.BENCH_CHECKS === "1";
/** --processes N: kotakpos as `kotakpos serve` with listen.processes = N (lib/serve.ts). */
const PROCESSES = processesOption();

function need(cmd: string): string {
  const p = Bun.which(cmd, { PATH: `${process.env.PATH}:/usr/sbin:/usr/lib/postfix/sbin` });
  if (!p) throw new Error(`${cmd} not found (apt-get install postfix)`);
  return p;
}

function run(cmd: string[], what: string): void {
  const r = Bun.spawnSync(cmd, { stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`${what} failed (exit ${r.exitCode}): ${r.stderr.toString() || r.stdout.toString()}`);
}

async function freePort(): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const port = 20000 + Math.floor(Math.random() * 40000);
    try {
      const l = Bun.listen({ hostname: "127.0.0.1", port, socket: { data() {} } });
      l.stop(true);
      return port;
    } catch {}
  }
  throw new Error("no free port");
}

async function waitPort(port: number, ms = 10_000): Promise<void> {
  const until = Date.now() + ms;
  for (;;) {
    try {
      const s = await Bun.connect({ hostname: "127.0.0.1", port, socket: { data() {} } });
      s.end();
      return;
    } catch {
      if (Date.now() > until) throw new Error(`nothing listens on ${port}`);
      await Bun.sleep(50);
    }
  }
}

/** smtp-source with the load; resolves with the seconds it took. */
async function smtpSource(port: number, messages: number, persistent: boolean): Promise<number> {
  const args = [need("smtp-source"), "-s", String(CONNECTIONS), "-m", String(messages), "-l", String(SIZE), "-f", FROM, "-t", RCPT, "-M", "load.remote.test"];
  if (persistent) args.push("-d");
  args.push(`127.0.0.1:${port}`);
  const t0 = performance.now();
  const p = Bun.spawn(args, { stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  if (code !== 0 || /error|fatal|refused/i.test(err + out)) throw new Error(`smtp-source failed (exit ${code}): ${(err + out).slice(0, 500)}`);
  return (performance.now() - t0) / 1000;
}

interface Postfix {
  port: number;
  maildirNew: string;
  /** CPU seconds of the master and all its daemons so far (scripts/bench/lib/cpu.ts). */
  cpu(): number;
  stop(): void;
}

/** A private Postfix instance: config dir, queue, data dir and Maildir under `dir`. */
async function startPostfix(dir: string): Promise<Postfix> {
  const postfix = need("postfix");
  const port = await freePort();
  const conf = join(dir, "conf");
  const mail = join(dir, "mail");
  const maildir = join(mail, "bench", "Maildir");
  for (const d of [conf, join(dir, "queue"), join(dir, "data"), maildir]) mkdirSync(d, { recursive: true });
  // Postfix's daemons (user postfix, nobody) must reach into the temp dir (mkdtemp: 0700).
  for (const d of [dirname(dir), dir]) chmodSync(d, 0o755);
  const uid = (name: string, flag: string) => Number(Bun.spawnSync(["id", flag, name]).stdout.toString().trim());
  chownSync(join(dir, "data"), uid("postfix", "-u"), uid("postfix", "-g"));
  for (const d of [mail, join(mail, "bench"), maildir]) chownSync(d, uid("nobody", "-u"), uid("nobody", "-g"));
  // No chroot (the daemons would need a copy of /etc inside the queue dir); only the
  // services this load uses; smtpd on 127.0.0.1:<port> with up to 100 processes.
  // columns: service type private unpriv chroot wakeup maxproc command (Debian's, chroot off)
  writeFileSync(
    join(conf, "master.cf"),
    `127.0.0.1:${port} inet n - n - 100 smtpd
pickup    unix  n - n 60    1 pickup
cleanup   unix  n - n -     0 cleanup
qmgr      unix  n - n 300   1 qmgr
rewrite   unix  - - n -     - trivial-rewrite
bounce    unix  - - n -     0 bounce
defer     unix  - - n -     0 bounce
trace     unix  - - n -     0 bounce
verify    unix  - - n -     1 verify
flush     unix  n - n 1000? 0 flush
proxymap  unix  - - n -     - proxymap
showq     unix  n - n -     - showq
error     unix  - - n -     - error
retry     unix  - - n -     - error
discard   unix  - - n -     - discard
local     unix  - n n -     - local
virtual   unix  - n n -     - virtual
anvil     unix  - - n -     1 anvil
scache    unix  - - n -     1 scache
postlog   unix-dgram n - n - 1 postlogd
`,
  );
  writeFileSync(
    join(conf, "main.cf"),
    `compatibility_level = 3.6
queue_directory = ${dir}/queue
data_directory = ${dir}/data
meta_directory = /etc/postfix
mail_owner = postfix
myhostname = pf.bench.test
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
smtpd_client_connection_rate_limit = 0
smtpd_client_connection_count_limit = 0
smtpd_client_message_rate_limit = 0
alias_maps =
alias_database =
biff = no
append_dot_mydomain = no
message_size_limit = 0
virtual_mailbox_domains = example.test
virtual_mailbox_base = ${mail}
virtual_mailbox_maps = static:bench/Maildir/
virtual_uid_maps = static:${uid("nobody", "-u")}
virtual_gid_maps = static:${uid("nobody", "-g")}
virtual_minimum_uid = 1
virtual_mailbox_limit = 0
maillog_file_prefixes = ${dir}
maillog_file = ${dir}/maillog
`,
  );
  // postfix(1) reports errors only to its log: show the log when it fails.
  const ctl = (verb: string) => {
    try {
      run([postfix, "-c", conf, verb], `postfix ${verb}`);
    } catch (e) {
      const log = existsSync(join(dir, "maillog")) ? readFileSync(join(dir, "maillog"), "utf8").split("\n").slice(-5).join("\n") : "";
      throw new Error(`${(e as Error).message}\n${log}`);
    }
  };
  ctl("check");
  ctl("start");
  let stopped = false;
  const stop = () => {
    if (stopped) return;
    stopped = true;
    try {
      ctl("stop");
    } catch {}
    // postfix stop returns once master was signalled; wait for it to go (pid file).
    const pidFile = join(dir, "queue", "pid", "master.pid");
    const pid = existsSync(pidFile) ? Number(readFileSync(pidFile, "utf8").trim()) : 0;
    for (let i = 0; pid > 0 && i < 100; i++) {
      try {
        process.kill(pid, 0);
      } catch {
        break;
      }
      Bun.sleepSync(50);
    }
  };
  try {
    await waitPort(port);
  } catch (e) {
    stop();
    throw e;
  }
  const masterPid = () => Number(readFileSync(join(dir, "queue", "pid", "master.pid"), "utf8").trim());
  return { port, maildirNew: join(maildir, "new"), cpu: () => treeCpuSeconds(masterPid()), stop };
}

const count = (d: string) => (existsSync(d) ? readdirSync(d).length : 0);

async function benchPostfix(pf: Postfix, persistent: boolean): Promise<{ queuedPerSec: number; deliveredPerSec: number; cpuMsPerMsg: number }> {
  const before = count(pf.maildirNew);
  await smtpSource(pf.port, WARMUP, persistent);
  while (count(pf.maildirNew) < before + WARMUP) await Bun.sleep(20);
  const cpu0 = pf.cpu();
  const t0 = performance.now();
  const queued = await smtpSource(pf.port, MESSAGES, persistent);
  const want = before + WARMUP + MESSAGES;
  const deadline = Date.now() + 120_000;
  while (count(pf.maildirNew) < want) {
    if (Date.now() > deadline) throw new Error(`postfix delivered ${count(pf.maildirNew) - before - WARMUP} of ${MESSAGES}`);
    await Bun.sleep(5);
  }
  const delivered = (performance.now() - t0) / 1000;
  // smtpd, cleanup, qmgr, trivial-rewrite, virtual …: the whole delivery's CPU per message.
  const cpuMsPerMsg = Math.round(((pf.cpu() - cpu0) * 1000 * 100) / MESSAGES) / 100;
  return { queuedPerSec: Math.round(MESSAGES / queued), deliveredPerSec: Math.round(MESSAGES / delivered), cpuMsPerMsg };
}

async function benchKotakpos(server: TestServer | BenchServe, persistent: boolean): Promise<{ perSec: number; delivered: number; cpuMsPerMsg: number; byThread: Record<string, number> }> {
  const port = server.port("smtp");
  // The server in this process (smtp-source runs in its own), or the serve process tree.
  const cpu = () => ("cpuSeconds" in server ? server.cpuSeconds() : processCpuSeconds(process.pid));
  const query = async (sql: string) => Number(("query" in server ? await server.query(sql) : (await server.core.db.query(sql)).rows)[0]!.n);
  const inboxCount = () => query(`SELECT m.messages AS n FROM mailboxes m JOIN accounts a ON a.id = m.account_id WHERE a.address = '${RCPT}' AND m.name = 'INBOX'`);
  const before = await inboxCount();
  await smtpSource(port, WARMUP, persistent);
  const cpu0 = cpu();
  const threads0 = threadCpuSeconds();
  const secs = await smtpSource(port, MESSAGES, persistent);
  const cpuMsPerMsg = Math.round(((cpu() - cpu0) * 1000 * 100) / MESSAGES) / 100;
  // CPU per message by thread (main, check/blob workers, Bun's pool and GC threads) of
  // this process: only when the server runs in it (not with --processes).
  const threads1 = threadCpuSeconds();
  const byThread =
    "cpuSeconds" in server
      ? {}
      : Object.fromEntries(
          Object.entries(threads1)
            .map(([k, v]) => [k, Math.round(((v - (threads0[k] ?? 0)) * 1000 * 100) / MESSAGES) / 100] as const)
            .filter(([, v]) => v > 0)
            .sort((a, b) => b[1] - a[1]),
        );
  const delivered = (await inboxCount()) - before - WARMUP;
  // smtp-source's messages differ (Message-Id counter): every one must have been a blob
  // write, not a deduplicated hit in the content-addressed store.
  const blobs = await query("SELECT count(*) AS n FROM blobs");
  if (blobs !== (await inboxCount())) throw new Error(`${blobs} blobs for ${await inboxCount()} messages: identical messages were deduplicated`);
  return { perSec: Math.round(MESSAGES / secs), delivered, cpuMsPerMsg, byThread };
}

if (process.getuid?.() !== 0) {
  console.log(JSON.stringify({ bench: "smtp-vs-postfix", skipped: "needs root to start postfix" }));
  process.exit(0);
}
try {
  need("postfix");
  need("smtp-source");
} catch (e) {
  console.log(JSON.stringify({ bench: "smtp-vs-postfix", skipped: (e as Error).message }));
  process.exit(0);
}

const dir = mkdtempSync(join(process.env.BENCH_DIR ?? tmpdir(), "kotakpos-bench-postfix-"));
let pf: Postfix | null = null;
let server: TestServer | null = null;
let served: BenchServe | null = null;
let dns: SenderDns | null = null;
const cleanup = async () => {
  pf?.stop();
  pf = null;
  await served?.stop();
  served = null;
  await server?.cleanup();
  server = null;
  await dns?.close();
  dns = null;
  if (!process.env.BENCH_KEEP) rmSync(dir, { recursive: true, force: true });
};
for (const sig of ["SIGINT", "SIGTERM"] as const) {
  process.on(sig, () => {
    void cleanup().finally(() => process.exit(130));
  });
}
try {
  const out: Record<string, unknown> = {
    bench: "smtp-vs-postfix",
    checks: CHECKS,
    processes: PROCESSES ?? "in-process",
    messages: MESSAGES,
    connections: CONNECTIONS,
    messageBytes: SIZE,
    client: "smtp-source",
  };
  pf = await startPostfix(join(dir, "postfix"));
  mkdirSync(join(dir, "kotakpos"));
  // kotakpos as in bench/smtp.ts: built-in plugins without mailauth (Postfix checks nothing
  // either), or with it and the sender domain's records on a local DNS server.
  dns = CHECKS ? await startSenderDns(["load.remote.test"]) : null;
  server = await startTestServer({
    users: [{ address: RCPT, password: "bench-password" }],
    plugins: CHECKS ? builtinPlugins : builtinPlugins.filter((p) => p.name !== "mailauth"),
    config: {
      listen: { ports: { smtp: 0, submission: 0, submissions: 0, imap: 0, imaps: 0, pop3: 0, pop3s: 0, http: 0, https: 0 } },
      ...(dns && { dns: { servers: [dns.server] } }),
    },
    dataDir: join(dir, "kotakpos"),
  });
  if (PROCESSES) {
    // The in-process server made the account; `kotakpos serve` with N processes serves it.
    await server.stop();
    server = null;
    served = await serveBench(join(dir, "kotakpos"), PROCESSES, {
      ...(!CHECKS && { plugins: { disabled: ["mailauth"] } }),
      ...(dns && { dns: { servers: [dns.server] } }),
    });
  }
  // Rounds alternate Postfix and kotakpos so that load from elsewhere on the machine hits
  // both alike; each figure is the median over the rounds, the ratio that of the medians.
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  for (const [name, persistent] of [
    ["connectionPerMessage", false],
    ["persistent", true],
  ] as const) {
    const queued: number[] = [];
    const deliveredPf: number[] = [];
    const kotakpos: number[] = [];
    const cpuPf: number[] = [];
    const cpuK: number[] = [];
    const threadsK: Record<string, number>[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const p = await benchPostfix(pf, persistent);
      const k = await benchKotakpos(served ?? server!, persistent);
      if (k.delivered !== MESSAGES) throw new Error(`kotakpos delivered ${k.delivered} of ${MESSAGES}`);
      queued.push(p.queuedPerSec);
      deliveredPf.push(p.deliveredPerSec);
      kotakpos.push(k.perSec);
      cpuPf.push(p.cpuMsPerMsg);
      cpuK.push(k.cpuMsPerMsg);
      threadsK.push(k.byThread);
    }
    out[name] = {
      postfixQueuedPerSec: median(queued),
      postfixDeliveredPerSec: median(deliveredPf),
      kotakposPerSec: median(kotakpos),
      ratio: Math.round((median(kotakpos) / median(deliveredPf)) * 100) / 100,
      ratioVsQueued: Math.round((median(kotakpos) / median(queued)) * 100) / 100,
      // Server CPU per message (medians): what a quiet machine's throughput follows.
      postfixCpuMsPerMsg: median(cpuPf),
      kotakposCpuMsPerMsg: median(cpuK),
      cpuRatio: Math.round((median(cpuPf) / median(cpuK)) * 100) / 100,
      rounds: { postfixDelivered: deliveredPf, kotakpos, kotakposCpuMsPerMsg: cpuK, kotakposCpuMsByThread: threadsK },
    };
  }
  if (served) {
    const rss = served.rssMiB();
    await served.stop();
    out.kotakposRssMiB = rss;
    // Time processes spent waiting for another's write lock (core/db/open.ts).
    out.dbLockWaits = served.lockWaits();
    served = null;
  }
  console.log(JSON.stringify(out));
} finally {
  await cleanup();
}
