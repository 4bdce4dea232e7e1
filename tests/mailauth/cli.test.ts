// `kotakpos dns DOMAIN [--json]`, `dns check DOMAIN`, `dns rotate DOMAIN` in-process, on a
// fresh data directory, against a test DNS server.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startTestDns, type TestDns } from "../helpers/dns-server.ts";
import { runCli } from "../helpers/cli.ts";

let dir: string;
let dns: TestDns;

const cli = (args: string[]) => runCli(dir, args);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "kotakpos-mailauth-cli-"));
  dns = await startTestDns({});
  writeFileSync(join(dir, "kotakpos.toml"), `hostname = "mx.example.test"\n[dns]\nservers = ["${dns.server}"]\ntimeout = "1s"\n[mailauth]\nipv4 = ["192.0.2.10"]\n`);
  expect((await cli(["domain", "add", "example.test"])).code).toBe(0);
});
afterAll(async () => {
  await dns.close();
  rmSync(dir, { recursive: true, force: true });
});

test("dns DOMAIN --json: every record as {name, type, value}; keys made once", async () => {
  const r = await cli(["dns", "example.test", "--json"]);
  expect(r.code).toBe(0);
  const records = JSON.parse(r.out) as { name: string; type: string; value: string }[];
  expect(records.every((x) => Object.keys(x).sort().join() === "name,type,value")).toBe(true);
  const types = records.map((x) => `${x.type} ${x.name.replace(/^[ke]\d{4}a\._domainkey/, "SEL._domainkey")}`);
  expect(types).toEqual([
    "MX example.test",
    "TXT example.test",
    "TXT SEL._domainkey.example.test",
    "TXT SEL._domainkey.example.test",
    "TXT _dmarc.example.test",
    "CNAME mta-sts.example.test",
    "TXT _mta-sts.example.test",
    "TXT _smtp._tls.example.test",
    "CNAME autoconfig.example.test",
    "SRV _submissions._tcp.example.test",
    "SRV _submission._tcp.example.test",
    "SRV _imaps._tcp.example.test",
    "SRV _pop3s._tcp.example.test",
    "SRV _imap._tcp.example.test",
    "SRV _pop3._tcp.example.test",
    "A mx.example.test",
    "TXT mx.example.test",
    "PTR 10.2.0.192.in-addr.arpa",
  ]);
  // The same keys the second time.
  expect(JSON.parse((await cli(["dns", "example.test", "--json"])).out)).toEqual(records);
  // Zone-file text for pasting.
  const text = await cli(["dns", "example.test"]);
  expect(text.out).toContain("example.test.\t3600\tIN\tMX\t10 mx.example.test.");
});

test("dns check DOMAIN: missing records, then right once published as printed (exit 1 while any is not right)", async () => {
  const missing = await cli(["dns", "check", "example.test"]);
  expect(missing.code).toBe(1);
  expect(missing.out).toContain("missing MX    example.test");
  // Publish exactly what `kotakpos dns` printed.
  const records = JSON.parse((await cli(["dns", "example.test", "--json"])).out) as { name: string; type: string; value: string }[];
  const zone: Record<string, { MX?: { exchange: string; priority: number }[]; A?: string[]; TXT?: string[]; SRV?: { priority: number; weight: number; port: number; target: string }[] }> = {};
  for (const r of records) {
    const z = (zone[r.name] ??= {});
    if (r.type === "MX") (z.MX ??= []).push({ exchange: r.value.split(" ")[1]!.replace(/\.$/, ""), priority: Number(r.value.split(" ")[0]) });
    if (r.type === "A") (z.A ??= []).push(r.value);
    // The test DNS server has no CNAME: the policy host gets the server's address instead.
    if (r.type === "CNAME") (z.A ??= []).push("192.0.2.10");
    if (r.type === "SRV") {
      const [priority, weight, port, target] = r.value.split(" ");
      (z.SRV ??= []).push({ priority: Number(priority), weight: Number(weight), port: Number(port), target: target === "." ? "." : target!.replace(/\.$/, "") });
    }
    // Zone-file strings back to the record text.
    if (r.type === "TXT") (z.TXT ??= []).push(JSON.parse(`[${r.value.replace(/" "/g, '","')}]`).join(""));
  }
  for (const [name, recs] of Object.entries(zone)) dns.set(name, recs);
  const check = await cli(["dns", "check", "example.test", "--json"]);
  const res = JSON.parse(check.out) as { type: string; status: string }[];
  // PTR is served by the address owner; the test DNS server has none.
  expect(res.filter((c) => c.type !== "PTR").map((c) => c.status)).toEqual(Array(17).fill("right"));
  expect(res.find((c) => c.type === "PTR")!.status).toBe("missing");
  expect(check.code).toBe(1);
});

test("dns rotate: stage, activate, prune; unknown domain and bad usage", async () => {
  const staged = await cli(["dns", "rotate", "example.test"]);
  expect(staged.code).toBe(0);
  expect(staged.out.match(/^staged /gm)).toHaveLength(2);
  expect((await cli(["dns", "rotate", "example.test", "--activate"])).out.match(/^retired /gm)).toHaveLength(2);
  expect((await cli(["dns", "rotate", "example.test", "--prune"])).out.match(/^active /gm)).toHaveLength(2);
  const nope = await cli(["dns", "other.test"]);
  expect(nope.code).toBe(1);
  expect(nope.err).toContain("not a local domain");
  expect((await cli(["dns"])).code).toBe(2);
  expect((await cli(["dns", "frob", "example.test"])).code).toBe(2);
});
