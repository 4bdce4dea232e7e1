// POP3 RETR throughput: messages/s for 10 KiB messages, kotakpos beside Debian's
// dovecot-pop3d (when installed) on loopback, with the same raw-socket client.
// Prints ONE JSON line.  usage: bun scripts/bench/pop3.ts [--messages N] [--conns C]
import * as net from "node:net";
import { join } from "node:path";
import { processCpuSeconds, treeCpuSeconds } from "./lib/cpu.ts";
import { freePort, withDovecot } from "./lib/dovecot.ts";
import { startTestServer } from "../../tests/helpers/server.ts";
import { processesOption, serveBench } from "./lib/serve.ts";

const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const PER_ACCOUNT = arg("messages", 2000);
const CONNS = arg("conns", 4);
const ROUNDS = arg("rounds", 3);
const SIZE = 10 * 1024;
const WINDOW = 32; // pipelined RETRs in flight per connection
const END = Buffer.from("\r\n.\r\n");
/** --processes N: the filled data directory served by `kotakpos serve` with N processes. */
const PROCESSES = processesOption();

function message(n: number, account: number): string {
  const head = `From: bench@example.test\r\nTo: u${account}@example.test\r\nSubject: bench ${account}/${n}\r\nMessage-ID: <b${account}.${n}@example.test>\r\nDate: Sun, 22 Nov 2026 03:00:00 +0000\r\n\r\n`;
  const line = "The quick brown fox jumps over the lazy dog 0123456789 abcdefghij\r\n";
  let body = "";
  while (head.length + body.length + line.length <= SIZE) body += line;
  return head + body + "x".repeat(SIZE - head.length - body.length - 2) + "\r\n";
}

/** One session: log in, say ready, wait for `go` (all sessions logged in: argon2id logins
 *  are not what is measured), RETR every message with a pipelining window, QUIT. */
function retrAll(port: number, user: string, pass: string, count: number, go: Promise<void>, ready: () => void): Promise<number> {
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

/** All sessions log in, then RETR at once; the clock runs from then until the last QUIT. */
async function round(port: number, users: string[], pass: string, count: number): Promise<{ seconds: number; bytes: number }> {
  let release!: () => void;
  const go = new Promise<void>((r) => (release = r));
  let waiting = users.length;
  let t0 = 0;
  const ready = () => {
    if (--waiting === 0) {
      t0 = performance.now();
      release();
    }
  };
  const bytes = await Promise.all(users.map((u) => retrAll(port, u, pass, count, go, ready)));
  return { seconds: (performance.now() - t0) / 1000, bytes: bytes.reduce((a, b) => a + b, 0) };
}

/** The client runs in its own process, as it would against Dovecot: it must not share
 *  the server's event loop. */
async function measure(port: number, users: string[], pass: string, cpu: () => number): Promise<{ msgPerSec: number; mibPerSec: number; seconds: number; serverCpuUsPerMsg: number }> {
  const c0 = cpu();
  const proc = Bun.spawn([process.execPath, import.meta.path, "--client", String(port), "--messages", String(PER_ACCOUNT), "--rounds", String(ROUNDS), "--pass", pass, "--users", users.join(",")], {
    stdout: "pipe",
    stderr: "pipe",
  });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  if (code !== 0) throw new Error(`client failed: ${err.trim()}`);
  // Server CPU per RETR over the warm-up and every round (logins included, a handful).
  const retrs = users.length * (Math.min(50, PER_ACCOUNT) + ROUNDS * PER_ACCOUNT);
  return { ...(JSON.parse(out) as { msgPerSec: number; mibPerSec: number; seconds: number }), serverCpuUsPerMsg: Math.round(((cpu() - c0) * 1e6) / retrs) };
}

async function client(port: number, users: string[], pass: string): Promise<{ msgPerSec: number; mibPerSec: number; seconds: number }> {
  await round(port, users, pass, Math.min(50, PER_ACCOUNT)); // warm up
  let best = { msgPerSec: 0, mibPerSec: 0, seconds: 0 };
  for (let r = 0; r < ROUNDS; r++) {
    const { seconds: s, bytes } = await round(port, users, pass, PER_ACCOUNT);
    const res = { msgPerSec: Math.round((users.length * PER_ACCOUNT) / s), mibPerSec: Math.round((bytes / 1048576 / s) * 10) / 10, seconds: Math.round(s * 1000) / 1000 };
    if (res.msgPerSec > best.msgPerSec) best = res;
  }
  return best;
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
        for (let k = n; k < n + 50 && k <= PER_ACCOUNT; k++) batch.push(store.append(inbox!.id, Buffer.from(message(k, a))));
        await Promise.all(batch);
      }
    }
    if (PROCESSES) {
      await server.stop();
      const served = await serveBench(server.dataDir, PROCESSES);
      try {
        return await measure(served.port("pop3"), users, "bench-pw", () => served.cpuSeconds());
      } finally {
        await served.cleanup();
      }
    }
    return await measure(server.port("pop3"), users, "bench-pw", () => processCpuSeconds(process.pid));
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
      messages: (_u, a) => Array.from({ length: PER_ACCOUNT }, (_, i) => [`${1700000000 + i + 1}.M${i + 1}P1.bench,S=${SIZE}:2,`, message(i + 1, a)] as [string, string | Uint8Array]),
    },
    (port, pid) => measure(port, users, "bench-pw", () => treeCpuSeconds(pid)),
  );
}

const strArg = (name: string) => process.argv[process.argv.indexOf(`--${name}`) + 1]!;
if (process.argv.includes("--client")) {
  console.log(JSON.stringify(await client(arg("client", 0), strArg("users").split(","), strArg("pass"))));
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
