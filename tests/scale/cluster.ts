// Several kotakpos instances on one libSQL server (sqld) and one S3 (s3rver), delivering
// remote mail to a third server (aiosmtpd): the parts the scale-out tests and the
// benchmark share. Instance "B" runs in the test's process (its core is inspected);
// others are spawned `kotakpos serve` processes, so a test can kill -9 them.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import { startS3, type TestS3 } from "../helpers/s3.ts";
import { startSqld, type TestSqld } from "../helpers/sqld.ts";
import { freePort, startAiosmtpd, waitPort, type Aiosmtpd } from "../helpers/aiosmtpd.ts";
import { startDnsFor } from "../helpers/pair.ts";
import type { TestDns } from "../helpers/dns-server.ts";
import { toToml } from "../helpers/toml.ts";

const ROOT = join(import.meta.dir, "../..");
export const ANN = { address: "ann@example.test", password: "ann-password-1" };
export const BEN = { address: "ben@example.test", password: "ben-password-1" };

export interface Shared {
  sqld: TestSqld;
  s3: TestS3;
  dns: TestDns;
  /** The third server: remote recipients @c.test end up here. */
  sink: Aiosmtpd;
  /** Config shared by every instance (database, blobs, DNS, delivery to the sink). */
  config: Record<string, unknown>;
  stop(): Promise<void>;
}

export interface Spawned {
  proc: ReturnType<typeof Bun.spawn>;
  dataDir: string;
  ports: { smtp: number; submission: number; imap: number; http: number };
  stop(signal?: "SIGTERM" | "SIGKILL"): Promise<void>;
}

process.env.AWS_ACCESS_KEY_ID ??= "S3RVER";
process.env.AWS_SECRET_ACCESS_KEY ??= "S3RVER";

export async function startShared(): Promise<Shared> {
  const sqld = await startSqld();
  const s3 = await startS3();
  const dns = await startDnsFor("c.test");
  const sink = await startAiosmtpd({ handler: { cls: "slow_sink.SlowSink", dir: import.meta.dir } });
  const config = {
    hostname: "mx.example.test",
    database: { url: sqld.url },
    blobs: { url: `s3://${s3.bucket}/kp`, endpoint: s3.endpoint, region: "us-east-1" },
    dns: { servers: [dns.server], timeout: "1s" },
    delivery: { port: sink.port, retry: ["1s"], maxAge: "1h", warnAfter: "" },
    plugins: { disabled: ["mailauth", "dnsbl", "junk", "greylist", "ratelimit", "rspamd"] },
    // Short, so the kill -9 test's takeover comes soon; long enough to be renewed under load.
    cluster: { leaseSeconds: 6 },
  };
  return {
    sqld,
    s3,
    dns,
    sink,
    config,
    async stop() {
      await sink.stop();
      await dns.close();
      await s3.cleanup();
      await sqld.stop();
    },
  };
}

/** The in-process instance; it also creates the domain and the accounts. */
export function startInProcess(shared: Shared, extra: Record<string, unknown> = {}): Promise<TestServer> {
  return startTestServer({ domains: ["example.test"], users: [ANN, BEN], config: { ...shared.config, ...extra } });
}

/** Another instance: `kotakpos serve` in its own process with its own data directory
 *  (a new one unless given); `config` as for startInProcess (Shared.config, or any). */
export async function spawnInstance(config: Record<string, unknown>, dataDir = mkdtempSync(join(tmpdir(), "kp-instance-"))): Promise<Spawned> {
  const ports = { smtp: await freePort(), submission: await freePort(), imap: await freePort(), http: await freePort() };
  const cfg = {
    ...config,
    listen: { address: "127.0.0.1", portOffset: 0, ports: { ...ports, submissions: 0, imaps: 0, pop3: 0, pop3s: 0, https: 0 } },
    auth: { allowPlaintextOnLoopback: true },
    log: { level: process.env.KOTAKPOS_TEST_LOG ?? "error" },
  };
  const configFile = join(dataDir, "kotakpos.toml");
  writeFileSync(configFile, `${toToml(cfg)}\n`);
  const proc = Bun.spawn([process.execPath, join(ROOT, "main.ts"), "serve", "--data", dataDir, "--config", configFile], { stdout: "ignore", stderr: "inherit", cwd: ROOT, env: process.env });
  try {
    await waitPort(ports.imap, proc, 60_000);
  } catch (e) {
    proc.kill("SIGKILL");
    throw e;
  }
  return {
    proc,
    dataDir,
    ports,
    async stop(signal = "SIGTERM") {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      await proc.exited;
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Submit `count` messages to rcpt<n>@<domain> through an instance's submission port. */
export async function bulkSend(port: number, subject: string, first: number, count: number, conns = 4, domain = "c.test"): Promise<number[]> {
  const p = Bun.spawn(["/usr/bin/python3", join(import.meta.dir, "bulk_send.py"), String(port), ANN.address, ANN.password, domain, subject, String(first), String(count), String(conns)], {
    stdout: "pipe",
    stderr: "pipe",
  });
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  if (code !== 0) throw new Error(`bulk_send exited ${code}: ${err}`);
  if (err) console.error(err.slice(0, 2000));
  return JSON.parse(out) as number[];
}

/** Subject numbers that arrived at the sink, with how many times each came. */
export function arrivals(sink: Aiosmtpd, subject: string): Map<number, number> {
  const out = new Map<number, number>();
  const re = new RegExp(`^Subject: ${subject} (\\d+)\\r?$`, "m");
  for (const m of sink.messages()) {
    const n = re.exec(m.data)?.[1];
    if (n !== undefined) out.set(Number(n), (out.get(Number(n)) ?? 0) + m.rcptTo.length);
  }
  return out;
}

export const setDelay = (sink: Aiosmtpd, seconds: number) => (seconds > 0 ? writeFileSync(join(sink.dir, "delay"), String(seconds)) : rmSync(join(sink.dir, "delay"), { force: true }));
