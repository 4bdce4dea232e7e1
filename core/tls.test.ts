import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tls from "node:tls";
import selfsigned from "selfsigned";
import { openDb, type Db } from "./db/open.ts";
import { createHooks } from "./hooks.ts";
import { createListenerSet } from "./listen.ts";
import { createLogger } from "./log.ts";
import { createTls } from "./tls.ts";

const log = createLogger("error");
let dir: string;
let db: Db;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "kotakpos-tls-"));
  db = await openDb({ url: `file:${join(dir, "t.db")}` });
});
afterAll(async () => {
  await db.close();
  rmSync(dir, { recursive: true, force: true });
});

function peerCN(port: number, servername?: string): Promise<string> {
  return new Promise((res, rej) => {
    const s = tls.connect({ port, host: "127.0.0.1", servername, rejectUnauthorized: false }, () => {
      const cn = s.getPeerCertificate().subject?.CN;
      s.destroy();
      res(String(cn));
    });
    s.once("error", rej);
  });
}

test("the certificate is chosen per SNI through the tls.certificate hook; the self-signed one answers the rest", async () => {
  const hooks = createHooks(log);
  const other = await selfsigned.generate([{ name: "commonName", value: "other.test" }], { keyType: "ec", curve: "P-256", algorithm: "sha256" });
  hooks.on("tls.certificate", (name) => (name === "other.test" ? { kind: "certificate", key: other.private, cert: other.cert } : { kind: "pass" }));
  const t = await createTls({ db, hooks, log, hostname: "mx.example.test" });
  const set = createListenerSet({ address: "127.0.0.1", portOffset: 0, maxPerIp: 10, log, tls: t });
  const l = await set.listen({ name: "x", port: 0, mode: "implicit-tls", onConnection: (c) => c.write("hi\r\n") });
  try {
    expect(await peerCN(l.port, "other.test")).toBe("other.test");
    expect(await peerCN(l.port, "mx.example.test")).toBe("mx.example.test");
    expect(await peerCN(l.port)).toBe("mx.example.test");
  } finally {
    await set.shutdown(100);
  }
  // The self-signed certificate is kept: a second start reuses it.
  const again = await createTls({ db, hooks: createHooks(log), log, hostname: "mx.example.test" });
  expect((await again.certificateFor(undefined)).cert).toBe((await t.certificateFor(undefined)).cert);
});
