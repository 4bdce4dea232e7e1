// Shared by the migrate tests: a data directory with accounts (no server), the CLI run
// in-process, and an account's content dumped for comparison.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "bun:test";
import { openDb } from "../../core/db/open.ts";
import { createStore, type StoreImpl } from "../../core/store/index.ts";
import { silentLog } from "../../core/store/test-helpers.ts";

export interface DataDir {
  dir: string;
  cleanup(): void;
}

export async function withStore<T>(dataDir: string, fn: (s: StoreImpl) => Promise<T>): Promise<T> {
  const db = await openDb({ url: `file:${join(dataDir, "kotakpos.db")}` });
  const store = await createStore({ db, blobDir: join(dataDir, "blobs"), log: silentLog, gc: { intervalMs: 0 } });
  try {
    return await fn(store);
  } finally {
    await store.close();
    await db.close();
  }
}

export async function makeDataDir(users: string[]): Promise<DataDir> {
  const dir = mkdtempSync(join(tmpdir(), "kotakpos-migrate-"));
  await withStore(dir, async (s) => {
    for (const u of users) {
      const domain = u.split("@")[1]!;
      if (!(await s.isLocalDomain(domain))) await s.addDomain(domain);
      await s.createAccount(u, "pw");
    }
  });
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export { runCli as cli } from "../../tests/helpers/cli.ts";

export interface DumpedMessage {
  raw: string;
  flags: string[];
  internalDate: number;
}

/** Mailbox name → its messages in UID order (bytes as latin1 text, flags sorted). */
export async function dumpAccount(dataDir: string, address: string, opts: { skipEmpty?: boolean } = {}): Promise<Record<string, DumpedMessage[]>> {
  return withStore(dataDir, async (s) => {
    const acct = (await s.getAccount(address))!;
    const out: Record<string, DumpedMessage[]> = {};
    for (const mb of await s.listMailboxes(acct.id)) {
      const msgs: DumpedMessage[] = [];
      for (const m of await s.messages(mb.id)) msgs.push({ raw: Buffer.from(await s.read(m)).toString("latin1"), flags: [...m.flags].sort(), internalDate: m.internalDate });
      if (!opts.skipEmpty || msgs.length) out[mb.name] = msgs;
    }
    expect(await s.check()).toEqual([]);
    return out;
  });
}

/** Runs /usr/bin/python3 with a script; its stdout. */
export function python(script: string, args: string[] = []): string {
  const r = Bun.spawnSync(["/usr/bin/python3", "-c", script, ...args], { stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`python failed: ${r.stderr.toString()}`);
  return r.stdout.toString();
}
