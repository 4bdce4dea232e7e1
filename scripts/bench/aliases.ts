// Aliases benchmark: time of the `route` handler for a 1,000-member group (flat, nested
// as 10 groups of 100, and 1,000 remote members with SRS), on a fresh embedded database.
// Prints ONE JSON line.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openDb } from "../../core/db/open.ts";
import { createStore } from "../../core/store/index.ts";
import { accounts, domains } from "../../core/db/schema.ts";
import { aliases } from "../../plugins/aliases/schema.ts";
import type { Address, Logger } from "../../core/types.ts";
import { dbDirectory } from "../../plugins/aliases/directory.ts";
import { createRouter } from "../../plugins/aliases/route.ts";

const MEMBERS = 1000;
const RUNS = Number(process.env.BENCH_RUNS ?? 50);
const log: Logger = { debug() {}, info() {}, warn() {}, error() {}, child: () => log };

const dir = mkdtempSync(join(process.env.BENCH_DIR ?? tmpdir(), "kotakpos-bench-aliases-"));
try {
  const db = await openDb({ url: `file:${join(dir, "k.db")}` });
  const now = Date.now();
  const [d] = await db.write((tx) => tx.orm.insert(domains).values({ name: "example.test", createdAt: now }).returning({ id: domains.id }));
  const users = Array.from({ length: MEMBERS }, (_, i) => `user${i}@example.test`);
  await db.write(async (tx) => {
    for (let i = 0; i < MEMBERS; i += 200) await tx.orm.insert(accounts).values(users.slice(i, i + 200).map((address) => ({ address, domainId: d!.id, passwordHash: "x", createdAt: now })));
    const row = (address: string, targets: string[]) => ({ address, targets: JSON.stringify(targets), kind: "group", createdAt: now });
    await tx.orm.insert(aliases).values(row("all@example.test", users));
    const subs = Array.from({ length: 10 }, (_, g) => `team${g}@example.test`);
    await tx.orm.insert(aliases).values(subs.map((s, g) => row(s, users.slice(g * 100, g * 100 + 100))));
    await tx.orm.insert(aliases).values(row("nested@example.test", subs));
    await tx.orm.insert(aliases).values(
      row(
        "remote@example.test",
        Array.from({ length: MEMBERS }, (_, i) => `friend${i}@remote${i % 50}.test`),
      ),
    );
  });

  const router = createRouter({
    dir: dbDirectory({ db, store: await createStore({ db, blobDir: join(dir, "blobs"), log, gc: { intervalMs: 0 } }) }),
    expand: { caseSensitive: false, separator: "+", tagFolder: false, maxDepth: 10, maxExpansion: 10_000 },
    srs: { secret: "bench", maxAgeDays: 21, domain: "", rewrite: true },
    log,
  });
  const addr = (a: string): Address => ({ address: a, local: a.slice(0, a.indexOf("@")), domain: a.slice(a.indexOf("@") + 1), params: {} });
  const txn = { id: "bench", mailFrom: addr("sender@origin.test") };

  async function time(rcpt: string, expectLocal: number, expectRemote: number): Promise<{ p50: number; p99: number }> {
    const ms: number[] = [];
    for (let i = 0; i < RUNS + 3; i++) {
      const t0 = performance.now();
      const r = await router.route(txn, addr(rcpt));
      const dt = performance.now() - t0;
      if (!("local" in r) || r.local.length !== expectLocal || r.remote.length !== expectRemote) throw new Error(`unexpected route for ${rcpt}: ${JSON.stringify(r).slice(0, 200)}`);
      if (i >= 3) ms.push(dt); // the first runs warm up the JIT and the page cache
    }
    ms.sort((a, b) => a - b);
    const at = (q: number) => Math.round(ms[Math.min(ms.length - 1, Math.floor(q * ms.length))]! * 100) / 100;
    return { p50: at(0.5), p99: at(0.99) };
  }

  const flat = await time("all@example.test", MEMBERS, 0);
  const nested = await time("nested@example.test", MEMBERS, 0);
  const remote = await time("remote@example.test", 0, MEMBERS);
  await db.close();
  console.log(
    JSON.stringify({
      bench: "aliases",
      members: MEMBERS,
      runs: RUNS,
      group1000_ms_p50: flat.p50,
      group1000_ms_p99: flat.p99,
      nested10x100_ms_p50: nested.p50,
      remote1000_srs_ms_p50: remote.p50,
    }),
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
