// Logins/s: N clients each looping connect → greeting → LOGIN → LOGOUT over IMAP for S
// seconds against kotakpos (a child process; the same users log in again and again, as
// mail apps do) and Debian's Dovecot (passwd-file, the same load) in the same run.
// Prints ONE JSON line with both figures and the ratio.
// usage: bun scripts/bench/logins.ts [--clients N] [--seconds S] [--no-dovecot]
import * as net from "node:net";
import { withDovecot } from "./lib/dovecot.ts";
import { arg } from "./lib/args.ts";

const CLIENTS = arg("clients", 10);
const SECONDS = arg("seconds", 6);
const PASS = "bench-pw";
const users = Array.from({ length: CLIENTS }, (_, i) => `u${i}@example.test`);

if (process.argv.includes("--serve")) {
  const { startTestServer } = await import("../../tests/helpers/server.ts");
  const server = await startTestServer({ users: users.map((address) => ({ address, password: PASS })), config: { listen: { maxConnectionsPerIp: 10_000 } } });
  console.log(JSON.stringify({ port: server.port("imap") }));
  process.on("SIGTERM", () => void server.cleanup().then(() => process.exit(0)));
  await new Promise(() => {});
}

/** One login round trip on a fresh connection; resolves with its milliseconds. */
function loginOnce(port: number, user: string): Promise<number> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const s = net.connect(port, "127.0.0.1");
    s.setNoDelay(true);
    let buf = "";
    let step = 0;
    s.on("data", (d: Buffer) => {
      buf += d.toString("latin1");
      if (step === 0 && buf.includes("\r\n")) {
        step = 1;
        buf = "";
        s.write(`a LOGIN ${user} ${PASS}\r\n`);
      } else if (step === 1 && /^a (OK|NO|BAD)/m.test(buf)) {
        if (!/^a OK/m.test(buf)) return reject(new Error(`login failed: ${buf.trim()}`));
        step = 2;
        s.write("b LOGOUT\r\n");
        s.end();
        resolve(performance.now() - t0);
      }
    });
    s.on("error", reject);
  });
}

async function load(port: number): Promise<{ loginsPerSec: number; p50ms: number; p99ms: number }> {
  const lat: number[] = [];
  const end = Date.now() + SECONDS * 1000;
  await Promise.all(
    users.map(async (u) => {
      while (Date.now() < end) lat.push(await loginOnce(port, u));
    }),
  );
  lat.sort((a, b) => a - b);
  const q = (p: number) => Math.round(lat[Math.min(lat.length - 1, Math.floor(lat.length * p))]! * 10) / 10;
  return { loginsPerSec: Math.round(lat.length / SECONDS), p50ms: q(0.5), p99ms: q(0.99) };
}

const child = Bun.spawn([process.execPath, import.meta.path, "--serve", "--clients", String(CLIENTS)], { stdout: "pipe", stderr: "inherit" });
const reader = child.stdout.getReader();
const { value } = await reader.read();
const { port } = JSON.parse(new TextDecoder().decode(value)) as { port: number };
const kotakpos = await load(port);
child.kill("SIGTERM");
await child.exited;
const dovecot = process.argv.includes("--no-dovecot")
  ? { error: "skipped" }
  : await withDovecot({ protocol: "imap", users, password: PASS, messages: () => [], loginConf: "service_count = 0\n  process_min_avail = 2\n  client_limit = 1000" }, load);
const dl = "loginsPerSec" in dovecot ? dovecot.loginsPerSec : null;
console.log(JSON.stringify({ bench: "logins", clients: CLIENTS, seconds: SECONDS, kotakpos, dovecot, ratio: dl ? Math.round((kotakpos.loginsPerSec / dl) * 100) / 100 : null }));
