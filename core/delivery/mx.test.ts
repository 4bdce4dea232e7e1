import { afterAll, beforeAll, expect, test } from "bun:test";
import { createResolver } from "../dns/index.ts";
import { hostAddresses, mxHops, orderHops, RouteError } from "./mx.ts";
import { startTestDns, type TestDns } from "../../tests/helpers/dns-server.ts";

let dns: TestDns;
beforeAll(async () => {
  dns = await startTestDns({
    "multi.test": {
      MX: [
        { exchange: "c.multi.test", priority: 20 },
        { exchange: "a.multi.test", priority: 10 },
        { exchange: "b.multi.test", priority: 10 },
      ],
    },
    "nomx.test": { A: ["127.0.0.9"] },
    "nullmx.test": { MX: [{ exchange: "", priority: 0 }] },
    "temp.test": { SERVFAIL: true },
    "host.test": { A: ["127.0.0.1"], AAAA: ["::1"] },
  });
});
afterAll(() => dns.close());
const resolver = () => createResolver({ servers: [dns.server], timeoutMs: 1000 });

test("MX hosts in preference order; equal preferences get shuffled (RFC 5321 §5.1)", async () => {
  const seen = new Set<string>();
  for (let i = 0; i < 40; i++) {
    const hops = await mxHops("multi.test", resolver());
    expect(hops.map((h) => h.preference)).toEqual([10, 10, 20]);
    expect(hops[2]!.host).toBe("c.multi.test");
    seen.add(hops[0]!.host);
  }
  expect([...seen].sort()).toEqual(["a.multi.test", "b.multi.test"]);
});

test("no MX record: the domain itself is the implicit MX", async () => {
  expect(await mxHops("nomx.test", resolver())).toEqual([{ host: "nomx.test", preference: 0 }]);
});

test("null MX (RFC 7505) and NXDOMAIN are permanent; SERVFAIL is temporary", async () => {
  const nul = await mxHops("nullmx.test", resolver()).catch((e) => e);
  expect(nul).toBeInstanceOf(RouteError);
  expect(nul.permanent).toBe(true);
  expect(nul.status).toBe("5.1.10");
  const nx = await mxHops("missing.test", resolver()).catch((e) => e);
  expect(nx.permanent).toBe(true);
  expect(nx.status).toBe("5.1.2");
  const temp = await mxHops("temp.test", resolver()).catch((e) => e);
  expect(temp.permanent).toBe(false);
});

test("host addresses: IPv6 and IPv4, literals as themselves", async () => {
  const r = await hostAddresses("host.test", resolver());
  expect(r.addresses.length).toBe(2);
  expect(r.addresses[1]).toBe("127.0.0.1");
  expect((await hostAddresses("[192.0.2.1]", resolver())).addresses).toEqual(["192.0.2.1"]);
  expect((await hostAddresses("gone.test", resolver())).addresses).toEqual([]);
});

test("orderHops keeps preference order for hook-given hops", () => {
  expect(
    orderHops([
      { host: "b", preference: 5 },
      { host: "a", preference: 1 },
    ]).map((h) => h.host),
  ).toEqual(["a", "b"]);
});
