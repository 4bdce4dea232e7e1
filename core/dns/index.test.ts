import { afterAll, beforeAll, expect, test } from "bun:test";
import dgram from "node:dgram";
import { generateKeyPairSync } from "node:crypto";
import { createResolver, DnsError, parseServer } from "./index.ts";
import { startTestDns, type TestDns } from "../../tests/helpers/dns-server.ts";

let dns: TestDns;
const dkimKey = generateKeyPairSync("rsa", { modulusLength: 2048 }).publicKey.export({ type: "spki", format: "der" }).toString("base64");
const dkimRecord = `v=DKIM1; k=rsa; p=${dkimKey}`;

beforeAll(async () => {
  dns = await startTestDns({
    "b.test": {
      MX: [
        { exchange: "mx1.b.test", priority: 10 },
        { exchange: "mx2.b.test", priority: 20 },
      ],
      TXT: ["v=spf1 -all"],
    },
    "mx1.b.test": { A: ["127.0.0.1"], AAAA: ["::1"] },
    "sel._domainkey.b.test": { TXT: [dkimRecord] },
    "broken.test": { SERVFAIL: true },
  });
});
afterAll(() => dns.close());

test("parseServer accepts host, host:port and [v6]:port", () => {
  expect(parseServer("127.0.0.1:5353")).toEqual({ host: "127.0.0.1", port: 5353 });
  expect(parseServer("10.0.0.1")).toEqual({ host: "10.0.0.1", port: 53 });
  expect(parseServer("[::1]:5300")).toEqual({ host: "::1", port: 5300 });
  expect(parseServer("::1")).toEqual({ host: "::1", port: 53 });
});

test("MX, A, AAAA from the configured server", async () => {
  const r = createResolver({ servers: [dns.server], timeoutMs: 2000 });
  expect((await r.mx("b.test")).sort((x, y) => x.priority - y.priority)).toEqual([
    { exchange: "mx1.b.test", priority: 10 },
    { exchange: "mx2.b.test", priority: 20 },
  ]);
  expect(await r.a("mx1.b.test")).toEqual(["127.0.0.1"]);
  expect((await r.aaaa("mx1.b.test"))[0]).toMatch(/^(0:){7}1$|^::1$/);
});

test("a long TXT record (2048-bit DKIM key) comes back joined, also in the mailauth shape", async () => {
  const r = createResolver({ servers: [dns.server], timeoutMs: 2000 });
  expect(dkimRecord.length).toBeGreaterThan(255);
  expect(await r.txt("sel._domainkey.b.test")).toEqual([dkimRecord]);
  expect(await r.resolve("sel._domainkey.b.test", "TXT")).toEqual([[dkimRecord]]);
});

test("NXDOMAIN is ENOTFOUND, no records is ENODATA, both final", async () => {
  const r = createResolver({ servers: [dns.server], timeoutMs: 2000 });
  const nx = await r.mx("nope.test").catch((e) => e);
  expect(nx).toBeInstanceOf(DnsError);
  expect(nx.code).toBe("ENOTFOUND");
  expect(nx.temporary).toBe(false);
  const nodata = await r.a("b.test").catch((e) => e);
  expect(nodata.code).toBe("ENODATA");
  expect(nodata.temporary).toBe(false);
});

test("SERVFAIL and a silent server are temporary; the next server is tried", async () => {
  const r = createResolver({ servers: [dns.server], timeoutMs: 2000 });
  const sf = await r.mx("broken.test").catch((e) => e);
  expect(sf.code).toBe("ESERVFAIL");
  expect(sf.temporary).toBe(true);

  // A UDP socket that never answers: a timeout, then the second server answers.
  const silent = dgram.createSocket("udp4");
  await new Promise<void>((res) => silent.bind(0, "127.0.0.1", () => res()));
  const silentAddr = `127.0.0.1:${silent.address().port}`;
  try {
    const slow = createResolver({ servers: [silentAddr], timeoutMs: 200 });
    const to = await slow.a("mx1.b.test").catch((e) => e);
    expect(to.code).toBe("ETIMEOUT");
    expect(to.temporary).toBe(true);
    const both = createResolver({ servers: [silentAddr, dns.server], timeoutMs: 200 });
    expect(await both.a("mx1.b.test")).toEqual(["127.0.0.1"]);
  } finally {
    silent.close();
  }
});

test("answers are cached for their TTL, negative ones only with an SOA (RFC 2308); lookups in flight are shared", async () => {
  const cached = await startTestDns({ "c.test": { A: ["127.0.0.7"] } }, { ttl: 60, negativeTtl: 60 });
  try {
    const r = createResolver({ servers: [cached.server], timeoutMs: 1000 });
    const [x, y] = await Promise.all([r.a("c.test"), r.a("c.test")]);
    expect(x).toEqual(["127.0.0.7"]);
    expect(y).toEqual(["127.0.0.7"]);
    expect(cached.queries).toBe(1);
    cached.set("c.test", { A: ["127.0.0.8"] });
    expect(await r.a("c.test")).toEqual(["127.0.0.7"]); // still within the TTL
    expect((await r.a("none.test").catch((e) => e)).code).toBe("ENOTFOUND");
    expect((await r.a("none.test").catch((e) => e)).code).toBe("ENOTFOUND");
    expect(cached.queries).toBe(2);
    // cachedUntil: when the cached answer (or not-found) expires, for copies kept elsewhere.
    const now = Date.now();
    for (const [name, type] of [
      ["c.test", "A"],
      ["C.TEST.", "a"],
      ["none.test", "A"],
    ] as const) {
      expect(r.cachedUntil!(name, type)).toBeGreaterThan(now + 50_000);
      expect(r.cachedUntil!(name, type)).toBeLessThanOrEqual(now + 60_000);
    }
    expect(r.cachedUntil!("c.test", "TXT")).toBe(0);
    // The default test server (TTL 0, no SOA) is never cached.
    const r2 = createResolver({ servers: [dns.server], timeoutMs: 1000 });
    const before = dns.queries;
    await r2.a("mx1.b.test");
    await r2.a("mx1.b.test");
    await r2.a("nope.test").catch(() => {});
    await r2.a("nope.test").catch(() => {});
    expect(dns.queries - before).toBe(4);
    expect(r2.cachedUntil!("mx1.b.test", "A")).toBe(0);
  } finally {
    await cached.close();
  }
});
