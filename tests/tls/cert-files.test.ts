// tls.certFile / tls.keyFile are re-read when the files change (certbot, a proxy's
// renewals): new connections on every TLS listener get the new certificate without a
// restart, a connection opened before keeps working, a broken pair is ignored.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from "node:fs";
import * as tls from "node:tls";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import { leafOf } from "../helpers/tls.ts";

let dir: string;
let srv: TestServer;

function makePair(cn: string): { cert: string; key: string } {
  const r = Bun.spawnSync(
    [
      "openssl",
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:P-256",
      "-nodes",
      "-keyout",
      join(dir, `${cn}.key`),
      "-out",
      join(dir, `${cn}.crt`),
      "-subj",
      `/CN=${cn}`,
      "-days",
      "2",
    ],
    { stderr: "pipe" },
  );
  if (r.exitCode !== 0) throw new Error(r.stderr.toString());
  return { cert: readFileSync(join(dir, `${cn}.crt`), "utf8"), key: readFileSync(join(dir, `${cn}.key`), "utf8") };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "kotakpos-certfiles-"));
  const first = makePair("first.example.test");
  writeFileSync(join(dir, "cert.pem"), first.cert);
  writeFileSync(join(dir, "key.pem"), first.key);
  srv = await startTestServer({ config: { tls: { certFile: join(dir, "cert.pem"), keyFile: join(dir, "key.pem") } } });
});
afterAll(async () => {
  await srv.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

test("replaced certificate files reach new connections on every listener; open ones stay", async () => {
  for (const l of ["imaps", "submissions", "pop3s", "https"]) expect((await leafOf(srv.port(l))).subject).toBe("first.example.test");
  const open = tls.connect({ host: "127.0.0.1", port: srv.port("imaps"), rejectUnauthorized: false });
  const greeting = await new Promise<string>((r) => open.once("data", (d) => r(String(d))));
  expect(greeting).toStartWith("* OK");

  // A half-written pair (new certificate, old key) is not taken.
  const second = makePair("second.example.test");
  writeFileSync(join(dir, "cert.pem"), second.cert);
  await Bun.sleep(2500);
  expect((await leafOf(srv.port("imaps"))).subject).toBe("first.example.test");
  writeFileSync(join(dir, "key.pem"), second.key);

  const deadline = Date.now() + 10_000;
  while ((await leafOf(srv.port("imaps"))).subject !== "second.example.test" && Date.now() < deadline) await Bun.sleep(200);
  for (const l of ["imaps", "submissions", "pop3s", "https"]) {
    expect((await leafOf(srv.port(l))).subject).toBe("second.example.test");
    expect((await leafOf(srv.port(l), "any.example.test")).subject).toBe("second.example.test");
  }
  // The connection from before the swap still talks.
  open.write("a1 NOOP\r\n");
  const reply = await new Promise<string>((r) => open.once("data", (d) => r(String(d))));
  expect(reply).toContain("a1 OK");
  open.destroy();
}, 30_000);
