// MTA-STS both ways, with real certificates from pebble: B (mx.b.test) gets certificates
// for mx.b.test and mta-sts.b.test by ACME and serves an `enforce` policy; A fetches it
// over HTTPS and delivers to b.test only with a verified certificate. C listens at the
// same port on 127.0.0.2 as another mx.b.test with a self-signed certificate: while DNS
// points there, A defers with the reason; back at B, the mail is delivered.
import { afterAll, beforeAll, expect, test } from "bun:test";
import nodemailer from "nodemailer";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { startTestDns, type TestDns } from "../helpers/dns-server.ts";
import { inbox, until } from "../helpers/pair.ts";
import { freePort, startPebble, type Pebble } from "../helpers/pebble.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import { leafOf, pemFile } from "../helpers/tls.ts";
import { mtaStsId, mtaStsPolicy } from "../../plugins/mailauth/transport.ts";

const ALICE = { address: "alice@a.test", password: "alice-password-1" };
const BOB = { address: "bob@b.test", password: "bob-password-1" };
const TLSRPT = { address: "tls@b.test", password: "tls-password-1" };
let dns: TestDns;
let pebble: Pebble;
let a: TestServer;
let b: TestServer;
let c: TestServer;

beforeAll(async () => {
  dns = await startTestDns({
    "b.test": { MX: [{ exchange: "mx.b.test", priority: 10 }] },
    "mx.b.test": { A: ["127.0.0.1"] },
    "mta-sts.b.test": { A: ["127.0.0.1"] },
    "_mta-sts.b.test": { TXT: [`v=STSv1; id=${mtaStsId(mtaStsPolicy("enforce", "mx.b.test"))}`] },
    "_smtp._tls.b.test": { TXT: ["v=TLSRPTv1; rua=mailto:tls@b.test"] },
    "a.test": { MX: [{ exchange: "mx.a.test", priority: 10 }] },
    "mx.a.test": { A: ["127.0.0.1"] },
  });
  const [httpPort, smtpPort] = [await freePort(), await freePort()];
  pebble = await startPebble({ httpPort, tlsPort: await freePort(), dnsServer: dns.server });
  const base = { dns: { servers: [dns.server], timeout: "1s" } };
  b = await startTestServer({
    domains: ["b.test"],
    users: [BOB, TLSRPT],
    config: {
      ...base,
      hostname: "mx.b.test",
      listen: { ports: { http: httpPort, smtp: smtpPort } },
      mailauth: { mtaSts: "enforce" },
      acme: { enabled: true, directory: pebble.directory, caFile: pebble.caFile, httpPort },
    },
  });
  c = await startTestServer({ domains: ["b.test"], config: { ...base, hostname: "mx.b.test", listen: { address: "127.0.0.2", ports: { smtp: smtpPort } } } });
  await until(
    "B's certificates",
    async () => (await leafOf(b.port("submissions"), "mta-sts.b.test")).issuer.startsWith("Pebble") && (await leafOf(b.port("submissions"), "mx.b.test")).issuer.startsWith("Pebble"),
  );
  const root = pemFile(join(b.dataDir, "pebble-root.pem"), await pebble.root());
  a = await startTestServer({
    domains: ["a.test"],
    users: [ALICE],
    config: { ...base, hostname: "mx.a.test", delivery: { port: smtpPort, caFile: root, retry: ["1h"], warnAfter: "" }, mtasts: { httpsPort: b.port("https") } },
  });
}, 40_000);

afterAll(async () => {
  for (const s of [a, b, c]) await s?.cleanup();
  await pebble?.stop();
  await dns?.close();
});

async function submit(subject: string): Promise<void> {
  const t = nodemailer.createTransport({ host: "127.0.0.1", port: a.port("submission"), secure: false, auth: { user: ALICE.address, pass: ALICE.password }, tls: { rejectUnauthorized: false } });
  try {
    await t.sendMail({ from: ALICE.address, to: BOB.address, subject, text: "Hello over verified TLS.\n" });
  } finally {
    t.close();
  }
}

test("B serves its policy at https://mta-sts.b.test/.well-known/mta-sts.txt with a valid certificate", async () => {
  const r = await fetch(`https://127.0.0.1:${b.port("https")}/.well-known/mta-sts.txt`, { headers: { host: "mta-sts.b.test" }, tls: { rejectUnauthorized: false } } as RequestInit);
  expect(r.status).toBe(200);
  expect(r.headers.get("content-type")).toStartWith("text/plain");
  expect(await r.text()).toBe("version: STSv1\r\nmode: enforce\r\nmx: mx.b.test\r\nmax_age: 604800\r\n");
  const other = await fetch(`http://127.0.0.1:${b.port("http")}/.well-known/mta-sts.txt`, { headers: { host: "mta-sts.unknown.test" } });
  expect(other.status).toBe(404);
});

test("enforce: an MX with a self-signed certificate is deferred with the reason; with B's pebble certificate it is delivered", async () => {
  dns.set("mx.b.test", { A: ["127.0.0.2"] }); // C: self-signed
  await submit("Via MTA-STS");
  const deferred = await until("deferred row", async () => (await a.core.spool.list()).find((e) => e.recipient === BOB.address && e.status === "deferred"), 45_000);
  expect(deferred.lastError).toContain("MTA-STS policy of b.test requires a valid certificate");
  expect(deferred.lastError).toMatch(/not signed by a trusted CA \(self-signed/);

  dns.set("mx.b.test", { A: ["127.0.0.1"] }); // B: pebble-issued
  await a.core.spool.retry(deferred.id);
  const msg = await until("Bob's message", async () => (await inbox(b, BOB.address)).find((m) => m.includes("Subject: Via MTA-STS")), 45_000);
  expect(msg).toContain("Hello over verified TLS.");
  // A writes the final status right after B's 250.
  await until("A's delivered row", async () => (await a.core.spool.get(deferred.id)).find((e) => e.recipient === BOB.address && e.status === "delivered"));
}, 100_000);

test("TLS-RPT: the day's results go to b.test's rua as a multipart/report with the gzipped JSON (RFC 8460)", async () => {
  const token = (await Bun.file(join(a.dataDir, "admin.token")).text()).trim();
  const r = await fetch(`http://127.0.0.1:${a.port("http")}/api/admin/tlsrpt/send`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify({ today: true }),
  });
  expect(r.status).toBe(200);
  const { sent } = (await r.json()) as { sent: { domain: string; to: string[] }[] };
  expect(sent.find((x) => x.domain === "b.test")?.to).toEqual(["mailto:tls@b.test"]);
  const mail = await until("the TLS report", async () => (await inbox(b, TLSRPT.address)).find((m) => m.includes("TLS-Report-Domain: b.test")), 45_000);
  expect(mail).toMatch(/Subject: Report Domain: b\.test Submitter: mx\.a\.test Report-ID: </);
  expect(mail).toContain('report-type="tlsrpt"');
  const b64 = /Content-Disposition: attachment; filename="[^"]+"\r\n\r\n([A-Za-z0-9+/=\r\n]+)--/.exec(mail)![1]!;
  const report = JSON.parse(gunzipSync(Buffer.from(b64.replace(/\s+/g, ""), "base64")).toString()) as {
    policies: { policy: Record<string, unknown>; summary: Record<string, number>; "failure-details": Record<string, unknown>[] }[];
  };
  const p = report.policies[0]!;
  expect(p.policy).toMatchObject({ "policy-type": "sts", "policy-domain": "b.test", "mx-host": ["mx.b.test"] });
  expect(p.policy["policy-string"]).toContain("mode: enforce");
  expect(p.summary["total-successful-session-count"]).toBeGreaterThanOrEqual(1);
  expect(p.summary["total-failure-session-count"]).toBeGreaterThanOrEqual(1);
  expect(p["failure-details"]).toContainEqual(expect.objectContaining({ "result-type": "certificate-not-trusted", "receiving-mx-hostname": "mx.b.test" }));
}, 100_000);
