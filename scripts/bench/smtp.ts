// SMTP benchmark: messages/s and p50/p99 latency for 10 KiB messages over 20 parallel
// persistent connections to port 25, each durably delivered to a local mailbox (the 250
// comes after the fsync and the commit). The load generator runs in a child process (as
// Postfix's smtp-source would) so it does not share the server's event loop.
// BENCH_CHECKS=1 turns the mailauth plugin on: every message is DKIM-signed (RSA-2048) by
// the sender domain, whose SPF, DKIM and DMARC records a local authoritative DNS server
// (tests/helpers/dns-server.ts) answers, so SPF, DKIM, ARC and DMARC all run and pass.
// Prints ONE JSON line. Env: BENCH_MESSAGES (5000), BENCH_CONNECTIONS (20), BENCH_SIZE (10240),
// BENCH_CHECKS (0).
import { builtinPlugins } from "../../plugins/index.ts";
import { threadCpuSeconds } from "./lib/cpu.ts";
import { DKIM_SELECTOR, SENDER_DOMAIN, startSenderDns } from "./lib/sender-dns.ts";
import { smtpConnection } from "./lib/smtp-load.ts";
import { startTestServer } from "../../tests/helpers/server.ts";

const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 5000);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 20);
const SIZE = Number(process.env.BENCH_SIZE ?? 10240);
const WARMUP = Math.min(200, Math.floor(MESSAGES / 10));
const RCPT = "bench@example.test";
const CHECKS = process.env.BENCH_CHECKS === "1";

/** The message minus its first header line, which makes each message unique (so the
 *  content-addressed blob store really writes every one); `sign` prepends a DKIM
 *  signature (the unique header is not among the signed ones). */
function body(size: number, sign?: (msg: Buffer) => string): Buffer {
  const head = "From: load@remote.test\r\nTo: bench@example.test\r\nSubject: benchmark message\r\nDate: Sun, 22 Nov 2026 03:00:00 +0000\r\nMessage-ID: <bench@remote.test>\r\n\r\n";
  const line = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ abcdefghijkl\r\n"; // 78 octets
  let s = head;
  const room = size - 3 - uniqueHeader(0).length;
  while (s.length + line.length <= room) s += line;
  s += "x".repeat(Math.max(0, room - s.length));
  s += "\r\n";
  if (sign) s = sign(Buffer.from(s)) + s;
  return Buffer.from(`${s}.\r\n`); // with the unique header: `size` octets before the final dot line (plus the signature)
}

let seq = 0;
function uniqueHeader(n: number): string {
  return `X-Bench-Seq: ${String(n).padStart(10, "0")}.${process.pid}\r\n`;
}

async function load(port: number, messages: number, sign?: (msg: Buffer) => string): Promise<{ seconds: number; latencies: number[] }> {
  let left = messages;
  const latencies: number[] = [];
  const msg = body(SIZE, sign);
  const t0 = performance.now();
  const envelope = Buffer.from(`MAIL FROM:<load@remote.test>\r\nRCPT TO:<${RCPT}>\r\nDATA\r\n`);
  const next = () => (left-- > 0 ? Buffer.concat([Buffer.from(uniqueHeader(++seq)), msg]) : null);
  await Promise.all(Array.from({ length: CONNECTIONS }, () => smtpConnection(port, envelope, next, latencies)));
  return { seconds: (performance.now() - t0) / 1000, latencies };
}

if (process.argv[2] === "--client") {
  // Child process: the load generator.
  const port = Number(process.argv[3]);
  let sign: ((msg: Buffer) => string) | undefined;
  if (process.argv[4]) {
    const { createPrivateKey } = await import("node:crypto");
    const { dkimSign } = await import("../../plugins/mailauth/dkim-sign.ts");
    const privateKey = createPrivateKey(process.argv[4]);
    sign = (m) => dkimSign(m, [{ domain: SENDER_DOMAIN, selector: DKIM_SELECTOR, algorithm: "rsa-sha256", privateKey }]).join("");
  }
  await load(port, WARMUP, sign);
  const r = await load(port, MESSAGES, sign);
  process.stdout.write(JSON.stringify(r) + "\n");
  process.exit(0);
}

// Parent: the server. Without BENCH_CHECKS, built-in plugins minus mailauth; with it, the
// sender domain's records on a local DNS server (lib/sender-dns.ts).
const dns = CHECKS ? await startSenderDns(["bench.test"]) : null;
const keyPem = dns?.keyPem ?? "";
const server = await startTestServer({
  users: [{ address: RCPT, password: "bench-password" }],
  plugins: CHECKS ? builtinPlugins : builtinPlugins.filter((p) => p.name !== "mailauth"),
  config: {
    listen: { ports: { smtp: 0, submission: 0, submissions: 0, imap: 0, imaps: 0, pop3: 0, pop3s: 0, http: 0, https: 0 } },
    ...(dns && { dns: { servers: [dns.server] } }),
  },
  ...(process.env.BENCH_DIR && { dataDir: (await import("node:fs")).mkdtempSync(`${process.env.BENCH_DIR}/kotakpos-bench-smtp-`) }),
});
/** CPU seconds (user + system) of this process and of its main thread, from /proc. */
function cpu(): { process: number; main: number } {
  const ticks = (f: string) => {
    const st = require("node:fs").readFileSync(f, "utf8") as string;
    const fields = st.slice(st.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime, USER_HZ = 100
  };
  try {
    return { process: ticks("/proc/self/stat"), main: ticks(`/proc/self/task/${process.pid}/stat`) };
  } catch {
    return { process: NaN, main: NaN };
  }
}

try {
  const port = server.port("smtp");
  const cpu0 = cpu();
  const threads0 = threadCpuSeconds();
  const child = Bun.spawn([process.execPath, import.meta.path, "--client", String(port), ...(keyPem ? [keyPem] : [])], { stdout: "pipe", stderr: "inherit", env: process.env });
  const [out, code] = await Promise.all([new Response(child.stdout).text(), child.exited]);
  if (code !== 0) throw new Error(`load generator failed (exit ${code})`);
  const r = JSON.parse(out) as { seconds: number; latencies: number[] };
  const cpu1 = cpu();
  const threads1 = threadCpuSeconds();
  const byThread = Object.fromEntries(
    Object.entries(threads1)
      .map(([k, v]) => [k, Math.round(((v - (threads0[k] ?? 0)) * 1000 * 100) / (MESSAGES + WARMUP)) / 100] as const)
      .filter(([, v]) => v > 0)
      .sort((a, b) => b[1] - a[1]),
  );
  const store = server.core.store;
  const acct = await store.getAccount(RCPT);
  const inbox = await store.getMailbox(acct!.id, "INBOX");
  // With checks on, the last message must carry passing results (else the bench measured
  // failures, not the checks).
  let authResults: string | undefined;
  if (CHECKS && inbox) {
    const last = (await store.messages(inbox.id)).at(-1)!;
    const head = Buffer.from(await store.read(last)).toString("latin1");
    authResults = /^Authentication-Results:[^\r]*(\r\n[ \t][^\r]*)*/im.exec(head)?.[0].replace(/\s+/g, " ");
    if (!authResults || !/spf=pass/.test(authResults) || !/dkim=pass/.test(authResults) || !/dmarc=pass/.test(authResults))
      throw new Error(`checks did not pass: ${authResults ?? head.slice(0, 500)}`);
  }
  const ms = r.latencies.sort((a, b) => a - b);
  const at = (q: number) => Math.round(ms[Math.min(ms.length - 1, Math.floor(q * ms.length))]! * 100) / 100;
  console.log(
    JSON.stringify({
      bench: "smtp",
      checks: CHECKS,
      messages: MESSAGES,
      connections: CONNECTIONS,
      messageBytes: SIZE,
      seconds: Math.round(r.seconds * 100) / 100,
      msgPerSec: Math.round(MESSAGES / r.seconds),
      p50Ms: at(0.5),
      p99Ms: at(0.99),
      // Server CPU per message (warm-up included): steadier than msg/s on a shared machine.
      cpuMsPerMsg: Math.round(((cpu1.process - cpu0.process) * 1000 * 100) / (MESSAGES + WARMUP)) / 100,
      mainThreadCpuMsPerMsg: Math.round(((cpu1.main - cpu0.main) * 1000 * 100) / (MESSAGES + WARMUP)) / 100,
      cpuMsPerMsgByThread: byThread,
      delivered: inbox?.messages ?? 0,
      ...(dns && { dnsQueries: dns.queries }),
      expected: MESSAGES + WARMUP,
    }),
  );
} finally {
  await server.cleanup();
  await dns?.close();
}
