// SPF, DKIM, DMARC and the verdict of checkInbound against records served by a test DNS
// server (dns2 on 127.0.0.1), through kotakpos's own resolver (core/dns).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createResolver } from "../../core/dns/index.ts";
import { checkInbound, type InboundInput } from "../../plugins/mailauth/inbound.ts";
import { startTestDns, type TestDns } from "../helpers/dns-server.ts";
import { makeKey, message, signed, type TestKey } from "./fixtures.ts";

let dns: TestDns;
let rejectKey: TestKey; // d=reject.test, RSA 2048
let rejectEd: TestKey; // d=reject.test, Ed25519
let otherKey: TestKey; // d=other.test (not aligned with reject.test)

const HOST = "mx.example.test";
const IP = "127.0.0.1";

beforeAll(async () => {
  [rejectKey, rejectEd, otherKey] = await Promise.all([
    makeKey("reject.test", "k2026a", "rsa-sha256"),
    makeKey("reject.test", "e2026a", "ed25519-sha256"),
    makeKey("other.test", "k2026a", "rsa-sha256"),
  ]);
  dns = await startTestDns({
    // SPF outcomes for 127.0.0.1
    "pass.test": { TXT: ["v=spf1 ip4:127.0.0.1 -all"] },
    "fail.test": { TXT: ["v=spf1 ip4:192.0.2.1 -all"] },
    "soft.test": { TXT: ["v=spf1 ip4:192.0.2.1 ~all"] },
    "nospf.test": { A: ["192.0.2.7"], TXT: ["some-verification=abc"] },
    "temp.test": { SERVFAIL: true },
    "helo.pass.test": { TXT: ["v=spf1 ip4:127.0.0.1 -all"] },
    "helo.fail.test": { TXT: ["v=spf1 -all"] },
    // DMARC domains; their SPF lets 127.0.0.1 send
    "reject.test": { TXT: ["v=spf1 ip4:127.0.0.1 -all"] },
    "_dmarc.reject.test": { TXT: ["v=DMARC1; p=reject"] },
    "sub.reject.test": { SERVFAIL: true },
    [rejectKey.name]: { TXT: [rejectKey.record] },
    [rejectEd.name]: { TXT: [rejectEd.record] },
    "quarantine.test": { TXT: ["v=spf1 -all"] },
    "_dmarc.quarantine.test": { TXT: ["v=DMARC1; p=quarantine"] },
    "monitor.test": { TXT: ["v=spf1 -all"] },
    "_dmarc.monitor.test": { TXT: ["v=DMARC1; p=none"] },
    "dnsbroken.test": { TXT: ["v=spf1 -all"] },
    "_dmarc.dnsbroken.test": { SERVFAIL: true },
    "other.test": { TXT: ["v=spf1 -all"] },
    [otherKey.name]: { TXT: [otherKey.record] },
  });
});
afterAll(() => dns.close());

function run(raw: Uint8Array, over: Partial<InboundInput> = {}) {
  const resolver = createResolver({ servers: [dns.server], timeoutMs: 1500 });
  return checkInbound({ raw, ip: IP, helo: "client.example", mailFrom: "", hostname: HOST, resolver: resolver.resolve, ...over });
}

describe("SPF (RFC 7208)", () => {
  const cases: [string, "pass" | "fail" | "softfail" | "none" | "temperror"][] = [
    ["pass.test", "pass"],
    ["fail.test", "fail"],
    ["soft.test", "softfail"],
    ["nospf.test", "none"],
    ["temp.test", "temperror"],
  ];
  for (const [domain, want] of cases) {
    test(`MAIL FROM at ${domain} → ${want}`, async () => {
      const r = await run(message("a@unrelated.example"), { mailFrom: `a@${domain}` });
      expect(r.spf.status.result).toBe(want);
      expect(r.header).toContain(`spf=${want}`);
      expect(r.header).toContain(`smtp.mailfrom=a@${domain}`);
      // No DMARC record for the From domain: SPF alone decides nothing.
      expect(r.verdict.kind).toBe("pass");
    });
  }

  test("the HELO identity is checked on its own", async () => {
    const ok = await run(message("a@unrelated.example"), { mailFrom: "a@pass.test", helo: "helo.pass.test" });
    expect(ok.helo?.status.result).toBe("pass");
    expect(ok.header).toMatch(/spf=pass[^;]*smtp\.helo=helo\.pass\.test/);
    const bad = await run(message("a@unrelated.example"), { mailFrom: "a@pass.test", helo: "helo.fail.test" });
    expect(bad.helo?.status.result).toBe("fail");
    expect(bad.header).toMatch(/spf=fail[^;]*smtp\.helo=helo\.fail\.test/);
  });

  test("the null sender is checked with the HELO name (§2.4)", async () => {
    const r = await run(message("a@unrelated.example"), { mailFrom: "", helo: "helo.fail.test" });
    expect(r.spf.status.result).toBe("fail");
    expect(r.header).toMatch(/spf=fail[^;]*smtp\.helo=helo\.fail\.test/);
    expect(r.helo).toBeUndefined();
  });
});

describe("DKIM (RFC 6376, RFC 8463)", () => {
  test("RSA-2048 and Ed25519 signatures pass through the test DNS server", async () => {
    const r = await run(signed(message("a@reject.test"), [rejectKey.key, rejectEd.key]), { mailFrom: "x@fail.test" });
    expect(r.dkim.map((d) => d.status.result)).toEqual(["pass", "pass"]);
    expect(r.header).toContain("header.a=rsa-sha256");
    expect(r.header).toContain("header.a=ed25519-sha256");
  });

  test("a changed body or an added Subject fails (oversigning)", async () => {
    const good = signed(message("a@reject.test", { body: "original\r\n" }), [rejectKey.key]);
    const body = Buffer.from(good.toString("latin1").replace("original", "changed!"), "latin1");
    expect((await run(body, { mailFrom: "x@fail.test" })).dkim[0]!.status.result).toBe("fail");
    const extra = Buffer.from(good.toString("latin1").replace("\r\n\r\noriginal", "\r\nSubject: injected\r\n\r\noriginal"), "latin1");
    expect((await run(extra, { mailFrom: "x@fail.test" })).dkim[0]!.status.result).toBe("fail");
  });

  test("no signature → dkim=none", async () => {
    const r = await run(message("a@unrelated.example"), { mailFrom: "a@pass.test" });
    expect(r.header).toContain("dkim=none");
  });
});

describe("DMARC (RFC 7489) with alignment and policy", () => {
  test("p=reject, SPF aligned → pass", async () => {
    const r = await run(message("a@reject.test"), { mailFrom: "bounce@reject.test" });
    expect(r.dmarc?.status.result).toBe("pass");
    expect(r.verdict.kind).toBe("pass");
  });

  test("p=reject, DKIM aligned (SPF unaligned) → pass", async () => {
    const r = await run(signed(message("a@reject.test"), [rejectKey.key]), { mailFrom: "x@fail.test" });
    expect(r.dmarc?.status.result).toBe("pass");
    expect(r.verdict.kind).toBe("pass");
  });

  test("p=reject, SPF passes for an unaligned domain and DKIM is unaligned → 550 5.7.1", async () => {
    const r = await run(signed(message("a@reject.test"), [otherKey.key]), { mailFrom: "x@pass.test" });
    expect(r.spf.status.result).toBe("pass");
    expect(r.dkim[0]!.status.result).toBe("pass");
    expect(r.dmarc?.status.result).toBe("fail");
    expect(r.verdict).toMatchObject({ kind: "reject", reply: { code: 550, enhanced: "5.7.1" } });
    expect(r.header).toContain("dmarc=fail");
  });

  test("p=quarantine, unaligned → quarantine (the Junk folder)", async () => {
    const r = await run(message("a@quarantine.test"), { mailFrom: "x@pass.test" });
    expect(r.dmarc?.status.result).toBe("fail");
    expect(r.verdict.kind).toBe("quarantine");
  });

  test("p=quarantine, aligned DKIM of the same org → pass", async () => {
    const q = await makeKey("quarantine.test", "k2026a", "ed25519-sha256");
    dns.set(q.name, { TXT: [q.record] });
    const r = await run(signed(message("a@quarantine.test"), [q.key]), { mailFrom: "x@fail.test" });
    expect(r.dmarc?.status.result).toBe("pass");
    expect(r.verdict.kind).toBe("pass");
  });

  test("p=none, unaligned → delivered, dmarc=fail recorded", async () => {
    const r = await run(message("a@monitor.test"), { mailFrom: "x@pass.test" });
    expect(r.dmarc?.status.result).toBe("fail");
    expect(r.verdict.kind).toBe("pass");
    expect(r.header).toContain("dmarc=fail");
  });

  test("the DMARC record cannot be fetched → 451, not a silent pass", async () => {
    const r = await run(message("a@dnsbroken.test"), { mailFrom: "x@pass.test" });
    expect(r.dmarc?.status.result).toBe("temperror");
    expect(r.verdict).toMatchObject({ kind: "defer", reply: { code: 451 } });
    expect(r.header).toContain("dmarc=temperror");
  });

  test("p=reject with SPF temperror for the aligned domain → 451 4.7.24 instead of 550", async () => {
    const r = await run(message("a@reject.test"), { mailFrom: "x@sub.reject.test" });
    expect(r.spf.status.result).toBe("temperror");
    expect(r.verdict).toMatchObject({ kind: "defer", reply: { code: 451, enhanced: "4.7.24" } });
  });

  test("p=reject with a DKIM key lookup failure → 451", async () => {
    const k = await makeKey("reject.test", "broken", "rsa-sha256");
    dns.set(k.name, { SERVFAIL: true });
    const r = await run(signed(message("a@reject.test"), [k.key]), { mailFrom: "x@pass.test" });
    expect(r.dkim[0]!.status.result).toBe("temperror");
    expect(r.verdict).toMatchObject({ kind: "defer", reply: { code: 451 } });
  });
});

describe("several authors (a DMARC bypass if ignored)", () => {
  test("two From fields: each domain is evaluated and the p=reject one rejects", async () => {
    const raw = message("ceo@reject.test", { extra: ["From: me@pass.test"] });
    const r = await run(raw, { mailFrom: "me@pass.test" });
    expect(r.dmarcAll.map((d) => d.status.header?.from).sort()).toEqual(["pass.test", "reject.test"]);
    expect(r.verdict).toMatchObject({ kind: "reject", reply: { code: 550 } });
  });

  test("two domains in one From field: the strictest outcome applies", async () => {
    const raw = Buffer.from(message("x@monitor.test").toString("latin1").replace("From: Someone <x@monitor.test>", "From: a@quarantine.test, b@monitor.test"), "latin1");
    const r = await run(raw, { mailFrom: "me@pass.test" });
    expect(r.dmarcAll).toHaveLength(2);
    expect(r.verdict.kind).toBe("quarantine");
    expect(r.header.match(/^ dmarc=/gm)).toHaveLength(2);
  });
});

describe("Authentication-Results (RFC 8601)", () => {
  test("one field with our authserv-id; forged ones with our id are marked for removal", async () => {
    const raw = message("a@pass.test", {
      extra: [
        `Authentication-Results: ${HOST}; dkim=pass header.d=pass.test`,
        "Authentication-Results: other.example; spf=pass",
        `Authentication-Results: (comment) "MX.Example.Test";\r\n  dmarc=pass`,
      ],
    });
    const r = await run(raw, { mailFrom: "a@pass.test" });
    expect(r.header.startsWith(`Authentication-Results: ${HOST};`)).toBe(true);
    expect(r.header.endsWith("\r\n")).toBe(true);
    expect(r.remove).toHaveLength(2);
    const text = raw.toString("latin1");
    const removed = r.remove.map((x) => text.slice(x.start, x.end));
    expect(removed[0]).toBe(`Authentication-Results: ${HOST}; dkim=pass header.d=pass.test\r\n`);
    expect(removed[1]).toBe(`Authentication-Results: (comment) "MX.Example.Test";\r\n  dmarc=pass\r\n`);
  });
});

describe("bounds", () => {
  test("a message with 40 signatures costs at most KEY_LOOKUP_BUDGET key lookups", async () => {
    const { KEY_LOOKUP_BUDGET } = await import("../../plugins/mailauth/inbound.ts");
    const base = message("a@reject.test");
    // 40 signatures with different selectors (made with one key; the selectors do not exist).
    const sigs = Array.from({ length: 40 }, (_, i) => signed(base, [{ ...rejectEd.key, selector: `s${i}` }]).subarray(0, -base.length));
    const raw = Buffer.concat([...sigs, base]);
    const resolver = createResolver({ servers: [dns.server], timeoutMs: 1500 });
    let keyQueries = 0;
    const counting = (name: string, type: string) => {
      if (name.includes("._domainkey.")) keyQueries++;
      return resolver.resolve(name, type);
    };
    const r = await checkInbound({ raw, ip: IP, helo: "client.example", mailFrom: "x@fail.test", hostname: HOST, resolver: counting });
    expect(keyQueries).toBeLessThanOrEqual(KEY_LOOKUP_BUDGET);
    expect(r.dkim.some((d) => d.status.result === "pass")).toBe(false);
    expect(r.verdict.kind).toBe("reject");
  });
});
