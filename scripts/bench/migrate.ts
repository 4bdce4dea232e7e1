// Import and migrate throughput: 10,000 messages of 10 KiB.
//  - import: an mbox file into a fresh data directory (no server; the CLI's own process),
//  - migrate: from Debian's Dovecot on loopback (Maildir, plaintext IMAP),
//  - mbsync (Debian's isync) doing the same copy from the same Dovecot into a Maildir.
// Prints ONE JSON line.  usage: bun scripts/bench/migrate.ts [--messages N]
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { withDovecot } from "./lib/dovecot.ts";
import { main } from "../../main.ts";
import type { Io } from "../../core/cli/io.ts";
import { openDb } from "../../core/db/open.ts";
import { createStore } from "../../core/store/index.ts";
import { createLogger } from "../../core/log.ts";
import { arg } from "./lib/args.ts";

const COUNT = arg("messages", 10_000);
const SIZE = 10 * 1024;
const MB = 1024 * 1024;

function message(n: number): string {
  const head = `From: bench@example.test\r\nTo: u@example.test\r\nSubject: bench ${n}\r\nMessage-ID: <b${n}@example.test>\r\nDate: Sun, 22 Nov 2026 03:00:00 +0000\r\n\r\n`;
  const line = "The quick brown fox jumps over the lazy dog 0123456789 abcdefghij\r\n";
  let body = "";
  while (head.length + body.length + line.length <= SIZE) body += line;
  return head + body + "x".repeat(SIZE - head.length - body.length - 2) + "\r\n";
}

async function freshData(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), "kotakpos-bench-migrate-"));
  const db = await openDb({ url: `file:${join(dir, "kotakpos.db")}` });
  const store = await createStore({ db, blobDir: join(dir, "blobs"), log: createLogger("error"), gc: { intervalMs: 0 } });
  await store.addDomain("example.test");
  await store.createAccount("u@example.test", "pw");
  await store.close();
  await db.close();
  return dir;
}

async function cli(args: string[], stdin = ""): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const io: Io = { out: (t) => void (out += t), err: (t) => void (err += t), readStdin: async () => stdin, promptHidden: async () => null, env: {} };
  return { code: await main(args, io), out, err };
}

/** Wall-clock rates, and the CPU seconds the copying process used (on a shared machine
 *  the wall clock mostly measures the neighbours). */
function figures(seconds: number, messages: number, bytes: number, cpuSeconds: number) {
  return { seconds: Number(seconds.toFixed(2)), messagesPerSecond: Math.round(messages / seconds), mbPerSecond: Number((bytes / MB / seconds).toFixed(1)), cpuSeconds: Number(cpuSeconds.toFixed(2)) };
}

const cpuNow = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

async function benchImport() {
  const data = await freshData();
  try {
    const mbox = join(data, "bench.mbox");
    writeFileSync(mbox, Array.from({ length: COUNT }, (_, i) => `From bench@example.test Sun Nov 22 03:00:00 2026\n${message(i).replace(/\r\n/g, "\n")}\n`).join(""));
    const t0 = performance.now();
    const c0 = cpuNow();
    const r = await cli(["import", "u@example.test", mbox, "--data", data]);
    const s = (performance.now() - t0) / 1000;
    if (r.code !== 0 || !r.out.includes(`imported ${COUNT}`)) return { error: r.err || r.out };
    return figures(s, COUNT, COUNT * SIZE, cpuNow() - c0);
  } finally {
    rmSync(data, { recursive: true, force: true });
  }
}

async function benchMigrate(port: number) {
  const data = await freshData();
  try {
    const t0 = performance.now();
    const c0 = cpuNow();
    const r = await cli(["migrate", "u@example.test", `imap://bench@127.0.0.1:${port}`, "--password-stdin", "--data", data], "bench-pw\n");
    const s = (performance.now() - t0) / 1000;
    if (r.code !== 0 || !r.out.includes(`imported ${COUNT}`)) return { error: r.err || r.out };
    return figures(s, COUNT, COUNT * SIZE, cpuNow() - c0);
  } finally {
    rmSync(data, { recursive: true, force: true });
  }
}

async function benchMbsync(port: number) {
  if (!Bun.which("mbsync")) return { error: "mbsync not installed" };
  const dir = mkdtempSync(join(tmpdir(), "kotakpos-bench-mbsync-"));
  try {
    writeFileSync(
      join(dir, "rc"),
      `IMAPAccount a\nHost 127.0.0.1\nPort ${port}\nUser bench\nPass bench-pw\nSSLType None\nAuthMechs LOGIN\n\nIMAPStore r\nAccount a\n\nMaildirStore l\nInbox ${dir}/mail\nSubFolders Maildir++\n\nChannel c\nFar :r:\nNear :l:\nPatterns *\nCreate Near\nSyncState *\n`,
    );
    const t0 = performance.now();
    const p = Bun.spawn(["mbsync", "-c", join(dir, "rc"), "-a"], { stdout: "pipe", stderr: "pipe", env: { ...process.env, HOME: dir } });
    const [err, code] = await Promise.all([new Response(p.stderr).text(), p.exited]);
    const s = (performance.now() - t0) / 1000;
    if (code !== 0) return { error: err.trim() };
    const ru = p.resourceUsage();
    return figures(s, COUNT, COUNT * SIZE, ru ? Number(ru.cpuTime.total) / 1e6 : NaN);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const imported = await benchImport();
const fromDovecot = await withDovecot(
  {
    protocol: "imap",
    users: ["bench"],
    password: "bench-pw",
    messages: () => Array.from({ length: COUNT }, (_, i) => [`${1700000000 + i}.M${i}P1.bench,S=${SIZE}:2,S`, message(i)] as [string, string]),
  },
  async (port) => ({ kotakpos: await benchMigrate(port), mbsync: await benchMbsync(port) }),
);
console.log(JSON.stringify({ bench: "migrate", messages: COUNT, messageBytes: SIZE, loadAverage: Number(loadavg()[0]!.toFixed(1)), import: imported, migrateFromDovecot: fromDovecot }));
