// DNS block lists against the test DNS server (issue 22), with swaks as the SMTP client:
// a listed IP is refused with a 554 naming the list; a list answering 127.255.255.254
// (query refused) leaves mail accepted and logs a warning; a listed link domain is
// refused at DATA; answers are cached.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import { createLogger } from "../../core/log.ts";
import { startTestDns, type TestDns } from "../helpers/dns-server.ts";
import { mailbox, swaks } from "../helpers/smtp.ts";
import smtp from "../../plugins/smtp/index.ts";
import dnsbl from "../../plugins/dnsbl/index.ts";

const RCPT = "alice@example.test";
let dns: TestDns;
const servers: TestServer[] = [];

beforeAll(async () => {
  dns = await startTestDns({
    // 127.0.0.1 reversed (RFC 5782 §2.1) in each zone.
    "1.0.0.127.listed.test": { A: ["127.0.0.2"] },
    "1.0.0.127.blocked.test": { A: ["127.255.255.254"] },
    "evil.example.dbl.test": { A: ["127.0.1.4"] },
  });
});
afterAll(async () => {
  for (const s of servers) await s.cleanup();
  await dns?.close();
});

async function server(cfg: Record<string, unknown>, logSink?: (l: string) => void): Promise<TestServer> {
  const s = await startTestServer({
    users: [{ address: RCPT, password: "pw-alice-1" }],
    plugins: [smtp, dnsbl],
    config: { dns: { servers: [dns.server] }, dnsbl: { checkPrivate: true, ...cfg } },
    ...(logSink && { log: createLogger("info", {}, logSink) }),
  });
  servers.push(s);
  return s;
}

test("a listed client IP is refused with 554 naming the list", async () => {
  const s = await server({ ipZones: ["listed.test"] });
  const r = await swaks(s.port("smtp"), ["--to", RCPT, "--from", "someone@remote.test", "--body", "hello"]);
  expect(r.code).not.toBe(0);
  expect(r.stdout).toMatch(/<\*\* 554 5\.7\.1 Client host 127\.0\.0\.1 is listed by listed\.test \(SBL: spam source\)/);
  expect(await mailbox(s, RCPT)).toHaveLength(0);
});

test("127.255.255.254 is not a listing: accepted, warning logged; listed link domains refused; lookups cached", async () => {
  const lines: string[] = [];
  const s = await server({ ipZones: ["blocked.test"], domainZones: ["dbl.test"] }, (l) => lines.push(l));
  const r = await swaks(s.port("smtp"), ["--to", RCPT, "--from", "someone@remote.test", "--body", "see https://www.fine.example/page"]);
  expect(r.code).toBe(0);
  expect(await mailbox(s, RCPT)).toHaveLength(1);
  const warn = lines.find((l) => / warn +dnsbl refused the query/.test(l));
  expect(warn).toBeDefined();
  expect(warn).toContain("answer=127.255.255.254");
  expect(warn).toContain("public or open resolver");

  const before = dns.queries;
  const bad = await swaks(s.port("smtp"), ["--to", RCPT, "--from", "someone@remote.test", "--body", "login at http://www.evil.example/account now"]);
  expect(bad.code).not.toBe(0);
  expect(bad.stdout).toMatch(/<\*\* 554 5\.7\.1 Domain evil\.example is listed by dbl\.test \(phishing domain\)/);
  expect(await mailbox(s, RCPT)).toHaveLength(1);
  // The IP and remote.test answers came from the cache: only the two new link domains were asked.
  expect(dns.queries - before).toBe(2);
});

test('action = "junk" files a listed client\'s message into Junk instead', async () => {
  const s = await server({ ipZones: ["listed.test"], action: "junk" });
  const r = await swaks(s.port("smtp"), ["--to", RCPT, "--from", "someone@remote.test", "--body", "hello"]);
  expect(r.code).toBe(0);
  const junk = await mailbox(s, RCPT, "Junk");
  expect(junk).toHaveLength(1);
  expect(junk[0]).toContain("X-DNSBL: 127.0.0.1 listed by listed.test (SBL: spam source)");
});
