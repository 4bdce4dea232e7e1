// DANE outbound (RFC 7672) against Debian's bind9: an authoritative server signs the zone
// `test.`, a second named validates it (trust anchor) and is A's resolver, so answers carry
// the AD bit. B presents its self-signed certificate: mx.b.test publishes its TLSA 3 1 1
// (delivered), mx.c.test a wrong one (deferred with the reason).
import { afterAll, beforeAll, expect, test } from "bun:test";
import nodemailer from "nodemailer";
import { inbox, until } from "../helpers/pair.ts";
import { startBind, startValidatingResolver, type TestBind, type TestResolver } from "../helpers/bind.ts";
import { freePort } from "../helpers/pebble.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import { spkiSha256 } from "../../plugins/mailauth/transport.ts";

const ALICE = { address: "alice@a.test", password: "alice-password-1" };
const BOB = { address: "bob@b.test", password: "bob-password-1" };
const CAROL = { address: "carol@c.test", password: "carol-password-1" };
let auth: TestBind;
let resolver: TestResolver;
let a: TestServer;
let b: TestServer;

beforeAll(async () => {
  const smtpPort = await freePort();
  b = await startTestServer({ domains: ["b.test", "c.test"], users: [BOB, CAROL], config: { hostname: "mx.b.test", listen: { ports: { smtp: smtpPort } } } });
  const spki = spkiSha256((await b.core.tls.certificateFor("mx.b.test")).cert);
  auth = await startBind(
    "test",
    [
      "a IN MX 10 mx.a",
      "mx.a IN A 127.0.0.1",
      "b IN MX 10 mx.b",
      "mx.b IN A 127.0.0.1",
      `_25._tcp.mx.b IN TLSA 3 1 1 ${spki}`,
      "c IN MX 10 mx.c",
      "mx.c IN A 127.0.0.1",
      `_25._tcp.mx.c IN TLSA 3 1 1 ${"0".repeat(64)}`,
    ],
    { dnssec: true },
  );
  resolver = await startValidatingResolver(auth);
  a = await startTestServer({
    domains: ["a.test"],
    users: [ALICE],
    config: { hostname: "mx.a.test", dns: { servers: [resolver.server], timeout: "2s" }, delivery: { port: smtpPort, retry: ["1h"], warnAfter: "" } },
  });
}, 60_000);

afterAll(async () => {
  for (const s of [a, b]) await s?.cleanup();
  await resolver?.stop();
  await auth?.stop();
});

async function submit(to: string, subject: string): Promise<void> {
  const t = nodemailer.createTransport({ host: "127.0.0.1", port: a.port("submission"), secure: false, auth: { user: ALICE.address, pass: ALICE.password }, tls: { rejectUnauthorized: false } });
  try {
    await t.sendMail({ from: ALICE.address, to, subject, text: "Hello over DANE.\n" });
  } finally {
    t.close();
  }
}

test("the resolver answers with the AD bit (validated)", () => {
  const [host, port] = resolver.server.split(":");
  const out = Bun.spawnSync(["dig", `@${host}`, "-p", port!, "_25._tcp.mx.b.test", "TLSA"]).stdout.toString();
  expect(out).toMatch(/flags: [a-z ]*\bad\b/);
});

test("a matching TLSA 3 1 1 record: delivered to the self-signed MX; a mismatch: deferred with the reason", async () => {
  await submit(BOB.address, "DANE match");
  await submit(CAROL.address, "DANE mismatch");
  const msg = await until("Bob's message", async () => (await inbox(b, BOB.address)).find((m) => m.includes("Subject: DANE match")), 45_000);
  expect(msg).toContain("Hello over DANE.");
  const deferred = await until("Carol's deferred row", async () => (await a.core.spool.list()).find((e) => e.recipient === CAROL.address && e.status === "deferred"), 45_000);
  expect(deferred.lastError).toContain("DANE: the certificate matches none of the TLSA records of _25._tcp.mx.c.test");
  expect(await inbox(b, CAROL.address)).toEqual([]);
}, 100_000);
