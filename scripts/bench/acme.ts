// Certificates, as one JSON line:
//   serveToCertSec     `kotakpos serve` spawned (from source) → every TLS listener (465, 993,
//                      995, 443 and STARTTLS on 143) presents a certificate issued by pebble
//   handshakesPerSec   full TLS handshakes/s on 993 (ECDSA P-256, no resumption, CONCURRENCY
//                      clients for SECONDS), median of ROUNDS, before and after a forced
//                      renewal (hot reload)
// Peers: Debian's pebble (ACME) and a dns2 test DNS server, all on 127.0.0.1.
// usage: bun scripts/bench/acme.ts
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import * as tls from "node:tls";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freeOffset } from "../../tests/helpers/binary.ts";
import { startTestDns } from "../../tests/helpers/dns-server.ts";
import { startPebble } from "../../tests/helpers/pebble.ts";
import { leafOf, pemFile, sClient } from "../../tests/helpers/tls.ts";

const HOST = "mx.bench.test";
const SECONDS = 2;
const ROUNDS = 3;
const CONCURRENCY = 4;
const root = join(import.meta.dir, "..", "..");
const tmp = mkdtempSync(join(tmpdir(), "kotakpos-bench-acme-"));
const dns = await startTestDns({ [HOST]: { A: ["127.0.0.1"] } });
const offset = await freeOffset();
const pebble = await startPebble({ httpPort: offset + 80, tlsPort: offset + 443, dnsServer: dns.server });
let proc: Bun.Subprocess | undefined;

async function handshakesPerSec(port: number): Promise<number> {
  let n = 0;
  const end = performance.now() + SECONDS * 1000;
  const one = () =>
    new Promise<void>((res, rej) => {
      const s = tls.connect({ host: "127.0.0.1", port, servername: HOST, rejectUnauthorized: false }, () => {
        n++;
        s.destroy();
        res();
      });
      s.on("error", rej);
    });
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (performance.now() < end) await one();
    }),
  );
  return Math.round(n / SECONDS);
}

async function medianRate(port: number): Promise<number> {
  const xs: number[] = [];
  for (let i = 0; i < ROUNDS; i++) xs.push(await handshakesPerSec(port));
  return xs.sort((a, b) => a - b)[Math.floor(ROUNDS / 2)]!;
}

try {
  const data = join(tmp, "data");
  writeFileSync(
    join(tmp, "kotakpos.toml"),
    [
      `hostname = "${HOST}"`,
      `[listen]`,
      `address = "127.0.0.1"`,
      `portOffset = ${offset}`,
      `[dns]`,
      `servers = ["${dns.server}"]`,
      `[log]`,
      `level = "warn"`,
      `[acme]`,
      `enabled = true`,
      `directory = "${pebble.directory}"`,
      `caFile = "${pebble.caFile}"`,
      `httpPort = ${offset + 80}`,
    ].join("\n") + "\n",
  );
  const t0 = performance.now();
  proc = Bun.spawn([process.execPath, join(root, "core", "main.ts"), "serve", "--data", data, "--config", join(tmp, "kotakpos.toml")], { cwd: tmp, stdout: "ignore", stderr: "pipe" });
  const rootFile = pemFile(join(tmp, "root.pem"), await pebble.root());
  const implicit = [465, 993, 995, 443].map((p) => offset + p);
  for (;;) {
    const leaves = await Promise.all(implicit.map((p) => leafOf(p, HOST).catch(() => undefined)));
    if (leaves.every((l) => l?.issuer.startsWith("Pebble")) && (await sClient({ port: offset + 143, servername: HOST, caFile: rootFile, starttls: "imap" })).ok) break;
    if (performance.now() - t0 > 60_000) throw new Error("no pebble certificate after 60 s");
    await Bun.sleep(20);
  }
  const serveToCertSec = (performance.now() - t0) / 1000;

  const before = await medianRate(offset + 993);
  const serial = (await leafOf(offset + 993, HOST)).serial;
  const token = (await Bun.file(join(data, "admin.token")).text()).trim();
  const r = await fetch(`http://127.0.0.1:${offset + 80}/api/admin/tls/renew`, { method: "POST", headers: { authorization: `Bearer ${token}` }, body: "{}" });
  if (!r.ok) throw new Error(`renew: ${r.status} ${await r.text()}`);
  while ((await leafOf(offset + 993, HOST)).serial === serial) await Bun.sleep(20);
  const after = await medianRate(offset + 993);
  console.log(
    JSON.stringify({
      bench: "acme",
      serveToCertSec: Math.round(serveToCertSec * 100) / 100,
      handshakesPerSecBefore: before,
      handshakesPerSecAfterReload: after,
      concurrency: CONCURRENCY,
      seconds: SECONDS,
      rounds: ROUNDS,
    }),
  );
} finally {
  proc?.kill("SIGTERM");
  await proc?.exited;
  await pebble.stop();
  await dns.close();
  rmSync(tmp, { recursive: true, force: true });
}
