// `kotakpos check [DOMAIN] [--json]` in-process against a test DNS server and Python's
// aiosmtpd as the "well-known MX": exit 0 when every check passes, 1 when one does not.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startAiosmtpd, type Aiosmtpd } from "../helpers/aiosmtpd.ts";
import { startTestDns, type TestDns } from "../helpers/dns-server.ts";
import { runCli } from "../helpers/cli.ts";

let dir: string;
let dns: TestDns;
let mx: Aiosmtpd;

const cli = (args: string[]) => runCli(dir, args);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "kotakpos-check-cli-"));
  mx = await startAiosmtpd();
  dns = await startTestDns({
    "mx.example.test": { A: ["192.0.2.10"] },
    "10.2.0.192.in-addr.arpa": { PTR: ["mx.example.test"] },
    "probe.test": { MX: [{ exchange: "mx.probe.test", priority: 10 }] },
    "mx.probe.test": { A: ["127.0.0.1"] },
  });
  writeFileSync(
    join(dir, "kotakpos.toml"),
    [
      'hostname = "mx.example.test"',
      "[dns]",
      `servers = ["${dns.server}"]`,
      'timeout = "1s"',
      "[delivery]",
      `port = ${mx.port}`,
      "[console]",
      'publicAddresses = ["192.0.2.10"]',
      'probeDomain = "probe.test"',
      'dnsblsV4 = ["zen.spamhaus.org"]',
      "dnsblsV6 = []",
      'domainBls = ["dbl.spamhaus.org"]',
      'checkTimeout = "2s"',
      "",
    ].join("\n"),
  );
});
afterAll(async () => {
  await dns.close();
  await mx.stop();
  rmSync(dir, { recursive: true, force: true });
});

test("every check passes: exit 0; --json names each with its status", async () => {
  const r = await cli(["check", "--json"]);
  const res = JSON.parse(r.out) as { status: string; checks: { id: string; status: string }[] };
  expect(res.checks.map((c) => `${c.id}:${c.status}`)).toEqual(["hostname:pass", "ptr:pass", "port25:pass", "dnsbl-ipv4:pass", "dnsbl-ipv6:pass", "dnsbl-domain:pass"]);
  expect(res.status).toBe("pass");
  expect(r.code).toBe(0);
  expect((await cli(["check"])).out).toContain("all checks pass");
});

test("a listing, a refused DNSBL query and a missing PTR: exit 1 with the fixes in plain words", async () => {
  dns.set("10.2.0.192.zen.spamhaus.org", { A: ["127.0.0.4"] });
  dns.set("example.test.dbl.spamhaus.org", { A: ["127.255.255.254"] });
  dns.zone.delete("10.2.0.192.in-addr.arpa");
  const r = await cli(["check"]);
  expect(r.code).toBe(1);
  expect(r.out).toContain("FAIL  Reverse DNS (PTR)");
  expect(r.out).toContain("hosting provider");
  expect(r.out).toContain("FAIL  Blocklists (IPv4): listed: zen.spamhaus.org: listed (127.0.0.4)");
  expect(r.out).toContain("????  Blocklists (host name)");
  expect(r.out).toContain("3 of 6 checks need attention");
});

test("check DOMAIN adds the domain's DNS records; bad usage is exit 2", async () => {
  expect((await cli(["domain", "add", "example.test"])).code).toBe(0);
  const r = await cli(["check", "example.test", "--json"]);
  const res = JSON.parse(r.out) as { checks: { id: string; items?: { label: string; status: string }[] }[] };
  const recs = res.checks.find((c) => c.id === "dns:example.test")!;
  expect(recs.items!.some((i) => i.label === "MX example.test" && i.status === "fail")).toBe(true);
  expect(recs.items!.some((i) => i.label === "SRV _imaps._tcp.example.test")).toBe(true);
  expect((await cli(["check", "a.test", "b.test"])).code).toBe(2);
});
