// Backup benchmark: a data dir with 10,000 messages of 10 KiB (BENCH_N), then `backup`
// (full), 100 more messages and `backup --incremental`, `verify-backup`, `restore` — times
// and sizes, each as the CLI does it. Hard links when on one file system (the default: all
// under one temp dir) and copies (BENCH_COPY=1 puts backups on /dev/shm). Prints ONE JSON line.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openDb } from "../../core/db/open.ts";
import { createStore } from "../../core/store/index.ts";
import type { Logger } from "../../core/types.ts";

const N = Number(process.env.BENCH_N ?? 10_000);
const log: Logger = { debug() {}, info() {}, warn() {}, error() {}, child: () => log };
const root = join(import.meta.dir, "../..");

function message(i: number): Uint8Array {
  const body = `Line ${i} of a benchmark message with some text in it to fill the body.\r\n`.repeat(140).slice(0, 10 * 1024 - 300);
  return new TextEncoder().encode(`From: Bench <bench@a.test>\r\nTo: u@b.test\r\nSubject: bench message ${i}\r\nMessage-ID: <${i}.${Math.random()}@a.test>\r\n\r\n${body}\r\n`);
}

/** du -sk: the space a tree takes (hard-linked files counted once per tree walk). */
function duKiB(path: string): number {
  return Number(Bun.spawnSync(["du", "-sk", path]).stdout.toString().split("\t")[0]);
}

async function cli(args: string[]): Promise<number> {
  const t0 = performance.now();
  const p = Bun.spawn([process.execPath, join(root, "main.ts"), ...args], { stdout: "pipe", stderr: "pipe" });
  const [err, code] = await Promise.all([new Response(p.stderr).text(), p.exited]);
  if (code !== 0) throw new Error(`kotakpos ${args.join(" ")}: ${err}`);
  return (performance.now() - t0) / 1000;
}

const dir = mkdtempSync(join(process.env.BENCH_DIR ?? tmpdir(), "kotakpos-bench-backup-"));
const backups = process.env.BENCH_COPY === "1" ? mkdtempSync("/dev/shm/kotakpos-bench-backup-") : dir;
try {
  const data = join(dir, "data");
  const fill = async (from: number, to: number) => {
    const db = await openDb({ url: `file:${join(data, "kotakpos.db")}` });
    const store = await createStore({ db, blobDir: join(data, "blobs"), log, gc: { intervalMs: 0 } });
    const acct = (await store.getAccount("u@b.test")) ?? (await store.createAccount("u@b.test", "pw"));
    const inbox = (await store.getMailbox(acct.id, "INBOX"))!;
    let next = from;
    await Promise.all(
      Array.from({ length: 20 }, async () => {
        while (next < to) await store.append(inbox.id, message(next++));
      }),
    );
    await store.close();
    await db.close();
  };
  await fill(0, N);
  const full = await cli(["backup", join(backups, "b1"), "--data", data]);
  const fullKiB = duKiB(join(backups, "b1"));
  // space the backup adds beside the data (hard-linked blobs cost nothing)
  const extraKiB =
    Number(
      Bun.spawnSync(["du", "-skc", data, join(backups, "b1")])
        .stdout.toString()
        .trim()
        .split("\n")
        .at(-1)!
        .split("\t")[0],
    ) - duKiB(data);
  await fill(N, N + 100);
  const inc = await cli(["backup", join(backups, "b2"), "--incremental", "--data", data]);
  const verify = await cli(["verify-backup", join(backups, "b1")]);
  const restore = await cli(["restore", join(backups, "b2"), "--data", join(backups, "restored")]);
  console.log(
    JSON.stringify({
      bench: "backup",
      messages: N,
      messageKiB: 10,
      blobs: process.env.BENCH_COPY === "1" ? "copied" : "hard-linked",
      dataMiB: +(duKiB(data) / 1024).toFixed(1),
      fullSeconds: +full.toFixed(2),
      fullMiB: +(fullKiB / 1024).toFixed(1),
      fullExtraSpaceMiB: +(extraKiB / 1024).toFixed(1),
      incrementalSeconds: +inc.toFixed(2),
      incrementalNewMessages: 100,
      verifySeconds: +verify.toFixed(2),
      restoreSeconds: +restore.toFixed(2),
    }),
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
  if (backups !== dir) rmSync(backups, { recursive: true, force: true });
}
