// DNS-01 against pebble, with the TXT record published by RFC 2136 dynamic update (TSIG)
// to Debian's bind9: pebble resolves through that bind; its HTTP-01 port leads nowhere.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import { startBind, type TestBind } from "../helpers/bind.ts";
import { freePort, startPebble, type Pebble } from "../helpers/pebble.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import { leafOf, pemFile, sClient } from "../helpers/tls.ts";

const HOST = "mx.example.test";
let bind: TestBind;
let pebble: Pebble;
let srv: TestServer;

beforeAll(async () => {
  bind = await startBind("example.test", ["mx IN A 127.0.0.1"]);
  // Nothing listens on pebble's HTTP-01 and TLS-ALPN-01 ports: only DNS-01 can pass.
  pebble = await startPebble({ httpPort: await freePort(), tlsPort: await freePort(), dnsServer: bind.server });
  srv = await startTestServer({
    domains: [],
    config: {
      hostname: HOST,
      acme: {
        enabled: true,
        directory: pebble.directory,
        caFile: pebble.caFile,
        challenge: "dns-01",
        rfc2136: { server: bind.server, zone: "example.test", keyName: bind.key.name, algorithm: bind.key.algorithm, secret: bind.key.secret },
      },
    },
  });
}, 30_000);
afterAll(async () => {
  await srv?.cleanup();
  await pebble?.stop();
  await bind?.stop();
});

test("a certificate by DNS-01 through RFC 2136 + TSIG, verified by openssl on 993 and STARTTLS 587; the TXT record is withdrawn", async () => {
  const deadline = Date.now() + 20_000;
  while (!(await leafOf(srv.port("imaps"), HOST)).issuer.startsWith("Pebble") && Date.now() < deadline) await Bun.sleep(100);
  expect((await leafOf(srv.port("imaps"), HOST)).issuer).toStartWith("Pebble Intermediate");
  const root = pemFile(join(srv.dataDir, "root.pem"), await pebble.root());
  expect((await sClient({ port: srv.port("imaps"), servername: HOST, caFile: root })).ok).toBe(true);
  expect((await sClient({ port: srv.port("submission"), servername: HOST, caFile: root, starttls: "smtp" })).ok).toBe(true);
  const txt = Bun.spawnSync(["dig", "@127.0.0.1", "-p", String(bind.port), `_acme-challenge.${HOST}`, "TXT", "+short"])
    .stdout.toString()
    .trim();
  expect(txt).toBe("");
}, 30_000);
