import { afterAll, beforeAll, expect, test } from "bun:test";
import { createResolver } from "../../core/dns/index.ts";
import { startTestDns, type TestDns } from "../../tests/helpers/dns-server.ts";
import type { DkimKey } from "./keys.ts";
import { checkRecords, dkimRecordText, domainRecords, formatCheck, formatZone, quoteTxt, reverseName, type RecordsInput } from "./records.ts";

const longKey = "A".repeat(392); // the length of a 2048-bit SPKI key in base64
const key = (selector: string, algorithm: DkimKey["algorithm"], publicKey: string, state: DkimKey["state"] = "active"): DkimKey => ({
  id: 1,
  domain: "example.test",
  selector,
  algorithm,
  privateKey: "",
  publicKey,
  state,
  createdAt: 0,
});

const input: RecordsInput = {
  domain: "example.test",
  hostname: "mx.example.test",
  keys: [key("k2026a", "rsa-sha256", longKey), key("e2026a", "ed25519-sha256", "B".repeat(44))],
  ipv4: ["192.0.2.10"],
  ipv6: [],
  dmarcPolicy: "quarantine",
  dmarcRua: "",
};

test("every record a domain needs, with zone-file values", () => {
  const r = domainRecords(input);
  expect(r.map((x) => `${x.type} ${x.name}`)).toEqual([
    "MX example.test",
    "TXT example.test",
    "TXT k2026a._domainkey.example.test",
    "TXT e2026a._domainkey.example.test",
    "TXT _dmarc.example.test",
    "A mx.example.test",
    "TXT mx.example.test",
    "PTR 10.2.0.192.in-addr.arpa",
  ]);
  expect(r[0]!.value).toBe("10 mx.example.test.");
  expect(r[1]!.value).toBe('"v=spf1 mx -all"');
  // A long TXT value is split into quoted 255-byte strings (RFC 1035 §3.3.14).
  expect(r[2]!.value).toBe(quoteTxt(dkimRecordText(input.keys[0]!)));
  expect(r[2]!.value.split('" "')).toHaveLength(2);
  expect(r[3]!.data).toBe(`v=DKIM1; k=ed25519; p=${"B".repeat(44)}`);
  expect(r[4]!.data).toBe("v=DMARC1; p=quarantine; adkim=r; aspf=r");
  expect(formatZone(r)).toContain("example.test.\t3600\tIN\tMX\t10 mx.example.test.");
  // sending through a relay preset: its SPF include
  expect(domainRecords({ ...input, spfInclude: "sendgrid.net" })[1]!.data).toBe("v=spf1 mx include:sendgrid.net -all");
});

test("unknown addresses become placeholders", () => {
  const r = domainRecords({ ...input, ipv4: [] });
  const a = r.filter((x) => x.type === "A" || x.type === "AAAA");
  expect(a.every((x) => x.placeholder)).toBe(true);
  expect(r.some((x) => x.type === "PTR")).toBe(false);
});

test("quoteTxt escapes quotes and backslashes; reverseName handles IPv6", () => {
  expect(quoteTxt('a"b\\c')).toBe('"a\\"b\\\\c"');
  expect(reverseName("2001:db8::1")).toBe("1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa");
});

let dns: TestDns;
beforeAll(async () => {
  dns = await startTestDns({});
});
afterAll(() => dns.close());

test("the checker says right, missing, wrong and error record by record", async () => {
  const records = domainRecords(input);
  dns.set("example.test", { MX: [{ exchange: "mx.example.test", priority: 10 }], TXT: ["v=spf1 ip4:192.0.2.10 -all", "google-site-verification=x"] });
  dns.set("k2026a._domainkey.example.test", { TXT: [dkimRecordText(input.keys[0]!)] });
  dns.set("e2026a._domainkey.example.test", { TXT: ["v=DKIM1; k=ed25519; p=" + "C".repeat(44)] });
  dns.set("_dmarc.example.test", { SERVFAIL: true });
  dns.set("mx.example.test", { A: ["192.0.2.99"] });
  const res = await checkRecords(records, { resolver: createResolver({ servers: [dns.server], timeoutMs: 1000 }), hostname: "mx.example.test" });
  const by = Object.fromEntries(res.map((c) => [`${c.record.type} ${c.record.name}`, c]));
  expect(by["MX example.test"]!.status).toBe("right");
  // A different SPF record that still authorizes the server's address is right.
  expect(by["TXT example.test"]!.status).toBe("right");
  expect(by["TXT k2026a._domainkey.example.test"]!.status).toBe("right");
  expect(by["TXT e2026a._domainkey.example.test"]!.status).toBe("wrong");
  expect(by["TXT _dmarc.example.test"]!.status).toBe("error");
  expect(by["A mx.example.test"]!.status).toBe("wrong");
  expect(by["TXT mx.example.test"]!.status).toBe("missing");
  expect(by["PTR 10.2.0.192.in-addr.arpa"]!.status).toBe("missing");
  const text = formatCheck(res);
  expect(text).toContain("wrong   TXT   e2026a._domainkey.example.test");
  expect(text).toMatch(/5 of 8 records need attention/);
});

test("SPF that does not authorize the server, two SPF records, DMARC without p=", async () => {
  const records = domainRecords(input).filter((r) => r.name === "example.test" || r.name === "_dmarc.example.test");
  const resolver = createResolver({ servers: [dns.server], timeoutMs: 1000 });
  dns.set("example.test", { MX: [{ exchange: "other.example", priority: 5 }], TXT: ["v=spf1 ip4:198.51.100.1 -all"] });
  dns.set("_dmarc.example.test", { TXT: ["v=DMARC1; rua=mailto:x@example.test"] });
  let res = await checkRecords(records, { resolver, hostname: "mx.example.test" });
  expect(res.map((c) => c.status)).toEqual(["wrong", "wrong", "wrong"]);
  dns.set("example.test", { TXT: ["v=spf1 mx -all", "v=spf1 -all"] });
  dns.set("_dmarc.example.test", { TXT: ["v=DMARC1; p=reject"] });
  res = await checkRecords(records, { resolver, hostname: "mx.example.test" });
  expect(res.map((c) => c.status)).toEqual(["missing", "wrong", "right"]);
  expect(res[1]!.detail).toContain("more than one");
});

test("an IDN domain's records use A-labels", () => {
  const r = domainRecords({ ...input, domain: "bücher.test", hostname: "mx.bücher.test" });
  expect(r[0]).toMatchObject({ name: "xn--bcher-kva.test", value: "10 mx.xn--bcher-kva.test." });
  expect(r.find((x) => x.name.includes("_domainkey"))!.name).toBe("k2026a._domainkey.xn--bcher-kva.test");
});
