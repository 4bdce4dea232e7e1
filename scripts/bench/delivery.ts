// Remote delivery throughput A → B over loopback: 1,000 messages of 10 KiB queued at A
// (scheduler stopped), then the scheduler started; deliveries/s until every row is
// delivered. For comparison, B's acceptance rate for the same (signed) messages sent
// straight to its SMTP port with our client over the same number of reused connections.
// Two runs: all built-in plugins (A DKIM-signs, B checks SPF/DKIM/DMARC), and without
// the mailauth plugin (the spool and SMTP paths alone).
// Prints ONE JSON line.  usage: bun scripts/bench/delivery.ts [--messages N]
import { rmSync } from "node:fs";
import { count, eq } from "drizzle-orm";
import { spool } from "../../core/db/schema.ts";
import { connectSmtp } from "../../core/delivery/smtp-client.ts";
import { ALICE, BOB, startDnsWith, startSide, twoPorts } from "../../tests/helpers/pair.ts";
import { arg } from "./lib/args.ts";

const N = arg("messages", 1000);
const SIZE = 10 * 1024;

function message(n: number): Uint8Array {
  const head = `From: ${ALICE.address}\r\nTo: ${BOB.address}\r\nSubject: bench ${n}\r\nMessage-ID: <d${n}.${Date.now()}@a.test>\r\nDate: Sun, 22 Nov 2026 03:00:00 +0000\r\n\r\n`;
  const line = "The quick brown fox jumps over the lazy dog 0123456789 abcdefghij\r\n";
  let body = "";
  while (head.length + body.length + line.length <= SIZE - 2) body += line;
  return new TextEncoder().encode(head + body + "x".repeat(SIZE - head.length - body.length - 2) + "\r\n");
}

interface Figures {
  deliveries_per_s: number;
  seconds: number;
  b_direct_accept_per_s: number;
  ratio_to_direct: number;
  left_in_queue: number;
}

async function run(disabled: string[]): Promise<Figures & { connections: number }> {
  const dns = await startDnsWith({ ttl: 300 }, "a.test", "b.test");
  const [aPort, bPort] = await twoPorts();
  const opts = { config: { plugins: { disabled } } };
  const [a, b] = await Promise.all([startSide("a.test", ALICE, aPort, bPort, dns, opts), startSide("b.test", BOB, bPort, aPort, dns, opts)]);
  try {
    const perDomain = a.core.config.delivery.perDomain;
    const msgs = Array.from({ length: N }, (_, i) => message(i));
    // The direct run sends what A's spool sends: signed by A's deliver.remote.before (DKIM).
    const signed = await Promise.all(
      msgs.map(async (raw, i) => {
        const out = { id: `d${i}`, mailFrom: ALICE.address, recipients: [BOB.address], domain: "b.test", fromDomain: "a.test", raw };
        const headers = (await a.core.hooks.run("deliver.remote.before", out)).flatMap((r) => (r?.kind === "headers" ? r.headers : []));
        return [Buffer.from(headers.map((h) => (h.endsWith("\r\n") ? h : h + "\r\n")).join("")), raw];
      }),
    );

    // B's acceptance rate with the same client over `perDomain` reused connections
    // (after a warm-up round, so neither figure pays for JIT and first file creation).
    const direct = async (n: number): Promise<number> => {
      const t0 = performance.now();
      await Promise.all(
        Array.from({ length: perDomain }, async (_, c) => {
          const client = await connectSmtp({ address: "127.0.0.1", port: bPort, hostname: "mx.b.test", helo: "mx.a.test", tls: "opportunistic" });
          for (let i = c; i < n; i += perDomain) {
            const r = await client.send({ mailFrom: ALICE.address, recipients: [{ address: BOB.address }] }, signed[i]!);
            if (!r.recipients[0]!.ok) throw new Error(r.recipients[0]!.reply);
          }
          await client.quit();
        }),
      );
      return (performance.now() - t0) / 1000;
    };
    await direct(Math.min(200, N));
    const directS = await direct(N);

    // Queue N at A with the scheduler stopped, then time the drain.
    await a.core.spool.stop();
    await Promise.all(msgs.map((raw) => a.core.spool.accept({ raw, prefix: [], mailFrom: ALICE.address, local: [], remote: [{ address: BOB.address }] })));
    const delivered = async () => (await a.core.db.orm.select({ n: count() }).from(spool).where(eq(spool.status, "delivered")))[0]!.n;
    const t1 = performance.now();
    a.core.spool.start();
    while ((await delivered()) < N) await Bun.sleep(20);
    const spoolS = (performance.now() - t1) / 1000;
    return {
      connections: perDomain,
      deliveries_per_s: Math.round(N / spoolS),
      seconds: Number(spoolS.toFixed(2)),
      b_direct_accept_per_s: Math.round(N / directS),
      ratio_to_direct: Number((directS / spoolS).toFixed(2)),
      left_in_queue: (await a.core.spool.list()).length,
    };
  } finally {
    for (const s of [a, b]) {
      await s.cleanup();
      rmSync(s.dataDir, { recursive: true, force: true });
    }
    await dns.close();
  }
}

const all = await run([]);
const bare = await run(["mailauth"]);
console.log(JSON.stringify({ bench: "delivery", messages: N, size: SIZE, ...all, without_mailauth: bare }));
