// JMAP listing vs IMAP listing on the same 10,000-message mailbox, same run: the webmail's
// first screen as one JMAP request (Email/query newest 50 with collapseThreads + Email/get
// of their list properties) against IMAP's `UID SORT (REVERSE ARRIVAL)` + `UID FETCH
// <those 50> (FLAGS ENVELOPE)`. Latency p50/p99 sequentially (JMAP: server time from the
// Server-Timing header and client time; IMAP: client time), then requests/s with N
// clients. kotakpos runs in a child process. Prints ONE JSON line.
// usage: bun scripts/bench/jmap.ts [--messages M] [--requests R] [--clients N] [--seconds S]
import { readFileSync } from "node:fs";
import { Client } from "./lib/imap-client.ts";
import { arg } from "./lib/args.ts";

const MESSAGES = arg("messages", 10_000);
const REQUESTS = arg("requests", 300);
const CLIENTS = arg("clients", 10);
const SECONDS = arg("seconds", 5);
const USER = "bench@example.test";
const PASS = "bench-pw";

function message(n: number): string {
  // Every third message answers the one before it: threads of up to three.
  const reply = n % 3 !== 1 ? `In-Reply-To: <m${n - 1}@example.test>\r\nReferences: <m${n - 1}@example.test>\r\n` : "";
  return (
    `From: Sender ${n % 17} <sender${n % 17}@example.test>\r\nTo: ${USER}\r\nSubject: ${reply ? "Re: " : ""}report ${Math.floor((n - 1) / 3)}\r\n` +
    `Message-ID: <m${n}@example.test>\r\n${reply}Date: Sun, 22 Nov 2026 03:00:00 +0000\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n` +
    "The quick brown fox jumps over the lazy dog 0123456789 abcdefghij\r\n".repeat(20)
  );
}

// ---------- the server, in a child process ----------

if (process.argv.includes("--serve")) {
  const { startTestServer } = await import("../../tests/helpers/server.ts");
  const server = await startTestServer({ users: [{ address: USER, password: PASS }], config: { jmap: { maxConcurrentRequests: 64 } } });
  const store = server.core.store;
  const acct = await store.getAccount(USER);
  const inbox = await store.getMailbox(acct!.id, "INBOX");
  // In order (thread links need the parent stored first), 100 appends per group commit.
  for (let n = 1; n <= MESSAGES; n += 100) {
    const batch = [];
    for (let k = n; k < n + 100 && k <= MESSAGES; k++) batch.push(store.append(inbox!.id, Buffer.from(message(k)), { flags: k % 4 ? ["\\Seen"] : [], internalDate: 1_700_000_000_000 + k * 1000 }));
    await Promise.all(batch);
  }
  console.log(JSON.stringify({ http: server.port("http"), imap: server.port("imap"), pid: process.pid }));
  process.on("SIGTERM", () => void server.cleanup().then(() => process.exit(0)));
  await new Promise(() => {});
}

// ---------- the load ----------

/** CPU seconds (user + system) the server process used so far: a per-listing cost that
 *  does not depend on how busy the machine is. */
function cpuSecs(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = f.slice(f.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return Math.round((s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN) * 100) / 100;
};
const auth = "Basic " + Buffer.from(`${USER}:${PASS}`).toString("base64");

async function jmapListing(base: string, accountId: string, inboxId: string): Promise<{ server: number; ids: number }> {
  const body = JSON.stringify({
    using: ["urn:ietf:params:jmap:core", "urn:ietf:params:jmap:mail"],
    methodCalls: [
      ["Email/query", { accountId, filter: { inMailbox: inboxId }, sort: [{ property: "receivedAt", isAscending: false }], collapseThreads: true, limit: 50 }, "q"],
      [
        "Email/get",
        {
          accountId,
          "#ids": { resultOf: "q", name: "Email/query", path: "/ids" },
          properties: ["id", "threadId", "mailboxIds", "keywords", "from", "subject", "receivedAt", "size", "preview", "hasAttachment"],
        },
        "g",
      ],
    ],
  });
  const r = await fetch(`${base}/jmap/api`, { method: "POST", headers: { authorization: auth, "content-type": "application/json" }, body });
  const json = (await r.json()) as { methodResponses: [string, { list?: unknown[] }, string][] };
  const list = json.methodResponses[1]![1].list;
  if (!list) throw new Error(JSON.stringify(json).slice(0, 300));
  const server = Number(/dur=([\d.]+)/.exec(r.headers.get("server-timing") ?? "")?.[1] ?? NaN);
  return { server, ids: list.length };
}

async function imapListing(c: Client): Promise<number> {
  const sorted = await c.cmd("UID SORT (REVERSE ARRIVAL) UTF-8 ALL");
  const uids = (/^\* SORT ([\d ]+)$/m.exec(sorted)?.[1] ?? "").split(" ").slice(0, 50);
  const out = await c.cmd(`UID FETCH ${uids.join(",")} (FLAGS ENVELOPE)`);
  return out.split("\n").filter((l) => l.startsWith("* ")).length;
}

/** Requests/s of `clients` loops; loop i calls fn(i) (an IMAP connection per loop). */
async function throughput(fn: (i: number) => Promise<unknown>, clients: number, seconds: number): Promise<number> {
  const until = performance.now() + seconds * 1000;
  let n = 0;
  await Promise.all(
    Array.from({ length: clients }, async (_, i) => {
      while (performance.now() < until) {
        await fn(i);
        n++;
      }
    }),
  );
  return Math.round(n / seconds);
}

const child = Bun.spawn([process.execPath, import.meta.path, "--serve", "--messages", String(MESSAGES)], { stdout: "pipe", stderr: "inherit" });
const reader = child.stdout.getReader();
let line = "";
while (!line.includes("\n")) {
  const { value, done } = await reader.read();
  if (done) throw new Error("server exited");
  line += new TextDecoder().decode(value);
}
const ports = JSON.parse(line.split("\n")[0]!) as { http: number; imap: number; pid: number };
// Keep reading the child's stdout (its log lines), so a full pipe never blocks it.
void (async () => {
  while (!(await reader.read()).done);
})();
const base = `http://127.0.0.1:${ports.http}`;
try {
  const session = (await (await fetch(`${base}/.well-known/jmap`, { headers: { authorization: auth } })).json()) as { primaryAccounts: Record<string, string> };
  const accountId = session.primaryAccounts["urn:ietf:params:jmap:mail"]!;
  const mb = (await (
    await fetch(`${base}/jmap/api`, {
      method: "POST",
      headers: { authorization: auth },
      body: JSON.stringify({ using: ["urn:ietf:params:jmap:core", "urn:ietf:params:jmap:mail"], methodCalls: [["Mailbox/query", { accountId, filter: { role: "inbox" } }, "m"]] }),
    })
  ).json()) as { methodResponses: [string, { ids: string[] }, string][] };
  const inboxId = mb.methodResponses[0]![1].ids[0]!;

  const imapClients = await Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      const c = await Client.open(ports.imap);
      await c.cmd(`LOGIN ${USER} ${PASS}`);
      await c.cmd("SELECT INBOX");
      return c;
    }),
  );
  // Warm-up, then alternate JMAP and IMAP listings so both see the same machine load.
  for (let i = 0; i < 20; i++) {
    await jmapListing(base, accountId, inboxId);
    await imapListing(imapClients[0]!);
  }
  const jServer: number[] = [];
  const jClient: number[] = [];
  const iClient: number[] = [];
  let listed = { jmap: 0, imap: 0 };
  let jCpu = 0;
  let iCpu = 0;
  for (let i = 0; i < REQUESTS; i++) {
    let c0 = cpuSecs(ports.pid);
    let t0 = performance.now();
    const j = await jmapListing(base, accountId, inboxId);
    jClient.push(performance.now() - t0);
    jCpu += cpuSecs(ports.pid) - c0;
    jServer.push(j.server);
    c0 = cpuSecs(ports.pid);
    t0 = performance.now();
    const n = await imapListing(imapClients[0]!);
    iClient.push(performance.now() - t0);
    iCpu += cpuSecs(ports.pid) - c0;
    listed = { jmap: j.ids, imap: n };
  }
  const jmapRps = await throughput(() => jmapListing(base, accountId, inboxId), CLIENTS, SECONDS);
  const imapRps = await throughput((i) => imapListing(imapClients[i]!), CLIENTS, SECONDS);
  for (const c of imapClients) c.close();
  console.log(
    JSON.stringify({
      bench: "jmap",
      messages: MESSAGES,
      listed,
      jmap: {
        serverMs: { p50: pct(jServer, 50), p99: pct(jServer, 99) },
        clientMs: { p50: pct(jClient, 50), p99: pct(jClient, 99) },
        serverCpuMsPerListing: Math.round((jCpu / REQUESTS) * 1e5) / 100,
        rps: jmapRps,
      },
      imap: { clientMs: { p50: pct(iClient, 50), p99: pct(iClient, 99) }, serverCpuMsPerListing: Math.round((iCpu / REQUESTS) * 1e5) / 100, rps: imapRps },
      load: Number(readFileSync("/proc/loadavg", "utf8").split(" ")[0]),
      clients: CLIENTS,
      targetP99Ms: 20,
    }),
  );
} finally {
  child.kill("SIGTERM");
  await child.exited;
}
