// Scale-out benchmark (issue 23): SMTP messages/s (durable local delivery on port 25)
// and IMAP operations/s for three setups in one run, side by side —
//   local   one instance, embedded database file + blobs folder (the default),
//   remote  one instance on a libSQL server (sqld) + S3 (s3rver),
//   two     two instances on one sqld + one S3, the load split between them.
// Every instance is a `kotakpos serve` process; CPU seconds of each part are read from
// /proc during the SMTP run, to show where the time goes. Needs KOTAKPOS_SQLD (the sqld
// binary scripts/test.sh fetches). Prints ONE JSON line.
// Env: BENCH_MESSAGES (1500), BENCH_CONNECTIONS (10), BENCH_SIZE (4096), BENCH_IMAP_CLIENTS (8),
//      BENCH_IMAP_SECONDS (5).
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { smtpConnection } from "./lib/smtp-load.ts";
import { Client } from "./lib/imap-client.ts";
import { startTestServer } from "../../tests/helpers/server.ts";
import { SQLD } from "../../tests/helpers/sqld.ts";
import { BEN, spawnInstance, startShared, type Shared, type Spawned } from "../../tests/scale/cluster.ts";

const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 1500);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 10);
const SIZE = Number(process.env.BENCH_SIZE ?? 4096);
const IMAP_CLIENTS = Number(process.env.BENCH_IMAP_CLIENTS ?? 8);
const IMAP_SECONDS = Number(process.env.BENCH_IMAP_SECONDS ?? 5);
const RCPT = BEN.address;

function cpuSecs(pid: number): number {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, "utf8");
    const v = f.slice(f.lastIndexOf(")") + 2).split(" ");
    return (Number(v[11]) + Number(v[12])) / 100;
  } catch {
    return Number.NaN;
  }
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? Math.round(s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]! * 100) / 100 : 0;
};

let seq = 0;
function message(): Buffer {
  const head = `Message-ID: <${++seq}.${process.pid}@remote.test>\r\nFrom: load@remote.test\r\nTo: ${RCPT}\r\nSubject: scale ${seq}\r\n\r\n`;
  const line = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ abcdefghijkl\r\n";
  return Buffer.from(head + line.repeat(Math.max(1, Math.floor((SIZE - head.length) / line.length))) + ".\r\n");
}

/** MESSAGES over CONNECTIONS connections, spread over the instances' SMTP ports. */
async function smtp(ports: number[]): Promise<{ seconds: number; latencies: number[] }> {
  let left = MESSAGES;
  const latencies: number[] = [];
  const envelope = Buffer.from(`MAIL FROM:<load@remote.test>\r\nRCPT TO:<${RCPT}>\r\nDATA\r\n`);
  const next = () => (left-- > 0 ? message() : null);
  const t0 = performance.now();
  await Promise.all(Array.from({ length: CONNECTIONS }, (_, i) => smtpConnection(ports[i % ports.length]!, envelope, next, latencies)));
  return { seconds: (performance.now() - t0) / 1000, latencies };
}

/** IMAP clients (one account, spread over the instances) looping SELECT, FETCH flags and
 *  envelopes of the newest 20, a body, STORE, SEARCH: operations/s. */
async function imap(ports: number[]): Promise<{ opsPerSec: number; p50Ms: number; p99Ms: number }> {
  const lat: number[] = [];
  const until = performance.now() + IMAP_SECONDS * 1000;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: IMAP_CLIENTS }, async (_, i) => {
      const c = await Client.open(ports[i % ports.length]!);
      await c.cmd(`LOGIN ${RCPT} ${BEN.password}`);
      const time = async (cmd: string) => {
        const s = performance.now();
        const out = await c.cmd(cmd);
        lat.push(performance.now() - s);
        return out;
      };
      for (let n = 0; performance.now() < until; n++) {
        const sel = await time("SELECT INBOX");
        const exists = Number(/\* (\d+) EXISTS/.exec(sel)?.[1] ?? 1);
        const k = 1 + ((n * 37 + i * 11) % exists);
        await time(`FETCH ${Math.max(1, exists - 19)}:* (UID FLAGS ENVELOPE)`);
        await time(`FETCH ${k} (BODY.PEEK[])`);
        await time(`STORE ${k} ${n % 2 ? "+" : "-"}FLAGS (\\Flagged)`);
        await time("SEARCH FLAGGED");
      }
      await c.cmd("LOGOUT").catch(() => "");
      c.close();
    }),
  );
  const secs = (performance.now() - t0) / 1000;
  return { opsPerSec: Math.round(lat.length / secs), p50Ms: pct(lat, 50), p99Ms: pct(lat, 99) };
}

const PLUGINS_OFF = { disabled: ["mailauth", "dnsbl", "junk", "greylist", "ratelimit", "rspamd"] };

async function prepare(config: Record<string, unknown>): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), "kp-bench-scale-"));
  const s = await startTestServer({ dataDir: dir, keepData: true, users: [BEN], config: config as never });
  await s.cleanup();
  return dir;
}

async function run(name: string, n: number, config: Record<string, unknown>, shared: Shared | null) {
  const dirs = [await prepare(config)];
  for (let i = 1; i < n; i++) dirs.push(mkdtempSync(join(tmpdir(), "kp-bench-scale-")));
  const instances: Spawned[] = [];
  try {
    for (const d of dirs) instances.push(await spawnInstance({ ...config, listen: { maxConnectionsPerIp: 500 } }, d));
    const smtpPorts = instances.map((x) => x.ports.smtp);
    const pids = { instances: instances.map((x) => x.proc.pid), sqld: shared?.sqld.pid, self: process.pid };
    const c0 = { inst: pids.instances.map(cpuSecs), sqld: pids.sqld ? cpuSecs(pids.sqld) : 0, self: cpuSecs(pids.self) };
    const s = await smtp(smtpPorts);
    const c1 = { inst: pids.instances.map(cpuSecs), sqld: pids.sqld ? cpuSecs(pids.sqld) : 0, self: cpuSecs(pids.self) };
    const i = await imap(instances.map((x) => x.ports.imap));
    const per = (x: number) => Math.round((x * 1000 * 100) / MESSAGES) / 100;
    return {
      setup: name,
      instances: n,
      smtpMsgPerSec: Math.round(MESSAGES / s.seconds),
      smtpP50Ms: pct(s.latencies, 50),
      smtpP99Ms: pct(s.latencies, 99),
      // CPU ms per message accepted, by part (self: the load generator and, when used, s3rver)
      cpuMsPerMsg: {
        instances: per(c1.inst.reduce((a, b, k) => a + b - c0.inst[k]!, 0)),
        sqld: per(c1.sqld - c0.sqld),
        loadAndS3: per(c1.self - c0.self),
      },
      imapOpsPerSec: i.opsPerSec,
      imapP50Ms: i.p50Ms,
      imapP99Ms: i.p99Ms,
    };
  } finally {
    for (const x of instances) await x.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
}

if (!SQLD) {
  console.log(JSON.stringify({ bench: "scale", error: "KOTAKPOS_SQLD is not set (the sqld binary; scripts/test.sh fetches it)" }));
  process.exit(0);
}
const results = [];
results.push(await run("local", 1, { hostname: "mx.example.test", plugins: PLUGINS_OFF }, null));
for (const n of [1, 2]) {
  const shared = await startShared();
  try {
    results.push(await run(n === 1 ? "remote" : "two", n, shared.config, shared));
  } finally {
    await shared.stop();
  }
}
console.log(JSON.stringify({ bench: "scale", messages: MESSAGES, connections: CONNECTIONS, messageBytes: SIZE, imapClients: IMAP_CLIENTS, results }));
process.exit(0);
