import { expect, test } from "bun:test";
import { DnsError, type Resolver } from "../../core/dns/index.ts";
import { checkDnsbl, checkHostname, checkPtr, type AddressInfo, type ChecksEnv } from "./checks.ts";

/** A resolver answering from a map ("A name" → answers); anything else is NXDOMAIN,
 *  "SERVFAIL name" a temporary failure. */
function fakeResolver(z: Record<string, string[]>, servfail: string[] = []): Resolver {
  const q = async (type: string, name: string) => {
    if (servfail.includes(name)) throw new DnsError("ESERVFAIL", name, type as never);
    const r = z[`${type} ${name}`];
    if (!r) throw new DnsError("ENOTFOUND", name, type as never);
    return r;
  };
  return {
    a: (n) => q("A", n),
    aaaa: (n) => q("AAAA", n),
    txt: (n) => q("TXT", n),
    mx: async () => [],
    resolve: (n, t) => q(t, n),
  };
}

const env = (r: Resolver, extra: Partial<ChecksEnv> = {}): ChecksEnv => ({
  hostname: "mx.example.com",
  resolver: r,
  publicAddresses: [],
  probeDomain: "probe.test",
  probePort: 25,
  dnsblsV4: ["zen.spamhaus.org", "bl.spamcop.net"],
  dnsblsV6: ["zen.spamhaus.org"],
  domainBls: [],
  timeoutMs: 500,
  ...extra,
});
const info = (addresses: string[], extra: Partial<AddressInfo> = {}): AddressInfo => ({ addresses, source: "configured", nat: false, hostA: [], hostAAAA: [], ...extra });

test("DNSBL: 127.255.255.x is 'could not check', 127.0.0.x a listing, NXDOMAIN clean; IPv6 looked up apart", async () => {
  const r = fakeResolver({
    "A 10.2.0.192.zen.spamhaus.org": ["127.255.255.254"],
    "A 10.2.0.192.bl.spamcop.net": ["127.0.0.2"],
  });
  const v4 = await checkDnsbl(env(r), info(["192.0.2.10", "2001:db8::1"]), 4);
  expect(v4.status).toBe("fail");
  expect(v4.items!.map((i) => i.status)).toEqual(["unknown", "fail"]);
  expect(v4.summary).toContain("bl.spamcop.net");
  expect(v4.summary).not.toContain("zen.spamhaus.org: listed");
  const v6 = await checkDnsbl(env(r), info(["192.0.2.10", "2001:db8::1"]), 6);
  expect(v6.status).toBe("pass");
  expect(v6.items).toHaveLength(1);
  const onlyRefused = await checkDnsbl(env(fakeResolver({ "A 10.2.0.192.zen.spamhaus.org": ["127.255.255.252"] }), { dnsblsV4: ["zen.spamhaus.org"] }), info(["192.0.2.10"]), 4);
  expect(onlyRefused.status).toBe("unknown");
  const servfail = await checkDnsbl(env(fakeResolver({}, ["10.2.0.192.zen.spamhaus.org"]), { dnsblsV4: ["zen.spamhaus.org"] }), info(["192.0.2.10"]), 4);
  expect(servfail.status).toBe("unknown");
});

test("host name: not a full name fails; an A record elsewhere fails with the fix; NAT warns", async () => {
  const r = fakeResolver({});
  expect((await checkHostname(env(r, { hostname: "localhost" }), info([]))).status).toBe("fail");
  const wrong = await checkHostname(env(r), info(["192.0.2.10"], { hostA: ["198.51.100.1"] }));
  expect(wrong.status).toBe("fail");
  expect(wrong.fix).toContain("192.0.2.10");
  const nat = await checkHostname(env(r), info(["192.0.2.10"], { hostA: ["192.0.2.10"], nat: true }));
  expect(nat.status).toBe("warn");
  expect(nat.fix).toContain("forward ports");
  expect((await checkHostname(env(r), info(["192.0.2.10"], { hostA: ["192.0.2.10"] }))).status).toBe("pass");
  expect((await checkHostname(env(r), info([], { dnsError: "timeout" }))).status).toBe("unknown");
});

test("PTR: each address must point back to the host name; a DNS failure is 'could not check'", async () => {
  const r = fakeResolver({ "PTR 10.2.0.192.in-addr.arpa": ["mx.example.com."], "PTR 11.2.0.192.in-addr.arpa": ["other.example.net"] });
  const res = await checkPtr(env(r), info(["192.0.2.10", "192.0.2.11"]));
  expect(res.items!.map((i) => i.status)).toEqual(["pass", "fail"]);
  expect(res.fix).toContain("hosting provider");
  const sf = await checkPtr(env(fakeResolver({}, ["10.2.0.192.in-addr.arpa"])), info(["192.0.2.10"]));
  expect(sf.status).toBe("unknown");
});
