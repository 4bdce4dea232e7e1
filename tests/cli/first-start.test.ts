// The first start (core/first-start.ts): `serve` on an empty data directory creates the
// database and the self-signed certificate, then starts afresh in the same process (exec):
// one pid, one banner, and the server that answers serves the certificate made before.
import { afterAll, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { X509Certificate } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { connect } from "node:tls";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freeOffset, serve, SOURCE_CLI } from "../helpers/binary.ts";
import { childPids } from "../helpers/serve-process.ts";

const tmp = mkdtempSync(join(tmpdir(), "kotakpos-first-start-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** The certificate a TLS listener presents (SHA-256 fingerprint). */
function servedFingerprint(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: "127.0.0.1", port, rejectUnauthorized: false }, () => {
      resolve(s.getPeerX509Certificate()!.fingerprint256);
      s.end();
    });
    s.on("error", reject);
  });
}

test("first start: prepares the data directory, then serves from the same pid; later starts do not", async () => {
  const data = join(tmp, "data");
  const args = ["--data", data, "--port-offset", String(await freeOffset()), "--listen", "127.0.0.1"];
  const env = { KOTAKPOS_LOG_LEVEL: "info" };
  const first = await serve(SOURCE_CLI, args, { cwd: tmp, env });
  let served: string;
  try {
    const log = first.stderr();
    expect(log.match(/first start: data directory prepared/g)?.length).toBe(1);
    expect(log.match(/generated a self-signed certificate/g)?.length).toBe(1);
    expect(first.banner.match(/kotakpos ready/g)?.length).toBe(1);
    // The process we started serves: no child does it for it (the exec kept the pid).
    expect(first.listeners.length).toBeGreaterThan(0);
    expect(childPids(first.proc.pid)).toEqual([]);
    served = await servedFingerprint(first.listeners.find((l) => l.name === "imaps")!.port);
  } finally {
    expect((await first.signal("SIGTERM")).code).toBe(0);
  }
  const db = new Database(join(data, "kotakpos.db"), { readonly: true });
  const rows = db.query<{ cert_pem: string }, []>("SELECT cert_pem FROM certificates WHERE issuer = 'self-signed'").all();
  db.close();
  expect(rows.length).toBe(1);
  expect(new X509Certificate(rows[0]!.cert_pem).fingerprint256).toBe(served);

  const again = await serve(SOURCE_CLI, args, { cwd: tmp, env });
  try {
    expect(again.stderr()).not.toContain("first start");
    expect(again.stderr()).not.toContain("generated a self-signed certificate");
    expect(await servedFingerprint(again.listeners.find((l) => l.name === "imaps")!.port)).toBe(served);
  } finally {
    expect((await again.signal("SIGTERM")).code).toBe(0);
  }
}, 60_000);
