// TLS and the write path (issue 18): the server CPU (exact, schedstat, all threads) per
// 100 KB FETCH over plaintext, STARTTLS (143) and implicit TLS (993), and per TLS session
// set-up (connect, STARTTLS or the 993 handshake, CAPABILITY, LOGOUT), and the wall time of
// such a session (imaplib leaves Nagle on, as many clients do: a delayed ACK shows there).
// The client is Python's imaplib (ssl: OpenSSL), one session at a time. kotakpos runs in a
// child process.
// Prints ONE JSON line.
// usage: bun scripts/bench/tls.ts [--fetches N] [--sessions N] [--rounds R]
import { arg } from "./lib/args.ts";
import { cpuMeterNs } from "./lib/cpu.ts";

const FETCHES = arg("fetches", 1000);
const SESSIONS = arg("sessions", 200);
const ROUNDS = arg("rounds", 3);
const USER = "tls@example.test";
const PASS = "bench-pw";

if (process.argv.includes("--serve")) {
  const { startTestServer } = await import("../../tests/helpers/server.ts");
  const server = await startTestServer({ users: [{ address: USER, password: PASS }] });
  const acct = await server.core.store.getAccount(USER);
  const inbox = await server.core.store.getMailbox(acct!.id, "INBOX");
  const line = "The quick brown fox jumps over the lazy dog 0123456789 abcdefghij\r\n";
  const body = `From: a@example.test\r\nTo: ${USER}\r\nSubject: 100 KB\r\n\r\n${line.repeat(Math.ceil(100_000 / line.length))}`;
  await server.core.store.append(inbox!.id, Buffer.from(body), {});
  console.log(JSON.stringify({ imap: server.port("imap"), imaps: server.port("imaps"), pid: process.pid }));
  process.on("SIGTERM", () => void server.cleanup().then(() => process.exit(0)));
  await new Promise(() => {});
}

// One Python process per measurement: it logs in, says "ready", waits for a line, runs the
// work and says "done" (the meter reads the server around the work only: no argon2 in it).
const PY = `
import imaplib, ssl, sys
mode, port, n, what = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
def session():
    if mode == "tls":
        return imaplib.IMAP4_SSL("127.0.0.1", port, ssl_context=ctx)
    c = imaplib.IMAP4("127.0.0.1", port)
    if mode == "starttls":
        c.starttls(ssl_context=ctx)
    return c
if what == "fetch":
    c = session(); c.login("${USER}", "${PASS}"); c.select("INBOX")
    assert len(c.fetch("1", "(BODY.PEEK[])")[1][0][1]) > 100000
    print("ready", flush=True); sys.stdin.readline()
    for _ in range(n):
        c.fetch("1", "(BODY.PEEK[])")
    print("done", flush=True)
    c.logout()
else:
    print("ready", flush=True); sys.stdin.readline()
    for _ in range(n):
        c = session(); c.capability(); c.logout()
    print("done", flush=True)
`;
const wallMs: Record<string, number[]> = {};

type Mode = "plain" | "starttls" | "tls";

async function measure(server: { imap: number; imaps: number; pid: number }, mode: Mode, what: "fetch" | "sessions", n: number): Promise<number> {
  const port = mode === "tls" ? server.imaps : server.imap;
  const py = Bun.spawn(["python3", "-c", PY, mode, String(port), String(n), what], { stdin: "pipe", stdout: "pipe", stderr: "inherit" });
  const lines = (async function* () {
    let buf = "";
    for await (const chunk of py.stdout) {
      buf += new TextDecoder().decode(chunk);
      let i: number;
      while ((i = buf.indexOf("\n")) >= 0) {
        yield buf.slice(0, i);
        buf = buf.slice(i + 1);
      }
    }
  })();
  const next = async () => (await lines.next()).value as string | undefined;
  if ((await next()) !== "ready") throw new Error(`python (${mode} ${what}) did not start`);
  const cpu = cpuMeterNs(server.pid);
  const c0 = cpu();
  const t0 = performance.now();
  py.stdin.write("go\n");
  await py.stdin.flush();
  if ((await next()) !== "done") throw new Error(`python (${mode} ${what}) failed`);
  const us = (cpu() - c0) / 1000 / n;
  if (what === "sessions") (wallMs[mode] ??= []).push((performance.now() - t0) / n);
  py.stdin.end();
  await py.exited;
  return us;
}

const child = Bun.spawn(["bun", import.meta.path, "--serve"], { stdout: "pipe", stderr: "inherit" });
const reader = child.stdout.getReader();
let head = "";
while (!head.includes("\n")) {
  const { value, done } = await reader.read();
  if (done) throw new Error("the server did not start");
  head += new TextDecoder().decode(value);
}
const server = JSON.parse(head.slice(0, head.indexOf("\n"))) as { imap: number; imaps: number; pid: number };

const modes: Mode[] = ["plain", "starttls", "tls"];
const fetch: Record<Mode, number[]> = { plain: [], starttls: [], tls: [] };
const sessions: Record<Mode, number[]> = { plain: [], starttls: [], tls: [] };
// Warm-up (the JIT): one short pass of everything.
for (const m of modes) await measure(server, m, "fetch", Math.ceil(FETCHES / 4));
for (let r = 0; r < ROUNDS; r++) {
  for (const m of modes) fetch[m].push(await measure(server, m, "fetch", FETCHES));
  for (const m of modes) sessions[m].push(await measure(server, m, "sessions", SESSIONS));
}
child.kill("SIGTERM");
await child.exited;

const range = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return { min: Math.round(s[0]!), median: Math.round(s[Math.floor(s.length / 2)]!), max: Math.round(s[s.length - 1]!) };
};
const { loadavg } = await import("node:os");
console.log(
  JSON.stringify({
    bench: "tls",
    fetches: FETCHES,
    sessions: SESSIONS,
    rounds: ROUNDS,
    serverCpuUsPerFetch100k: Object.fromEntries(modes.map((m) => [m, range(fetch[m])])),
    serverCpuUsPerSession: Object.fromEntries(modes.map((m) => [m, range(sessions[m])])),
    wallUsPerSession: Object.fromEntries(modes.map((m) => [m, range((wallMs[m] ?? []).map((x) => x * 1000))])),
    load: loadavg().map((x) => Math.round(x * 100) / 100),
  }),
);
