// DKIM against an independent implementation, Debian's python3-dkim (dkimpy): kotakpos
// signs and dkimpy verifies, dkimpy signs and kotakpos verifies. Keys are published on a
// test DNS server (dns2) and looked up over DNS by both sides; the RSA key is 2048 bits, so
// its TXT record is longer than one 255-byte string.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { createPrivateKey } from "node:crypto";
import { createResolver } from "../../core/dns/index.ts";
import { checkInbound } from "../../plugins/mailauth/inbound.ts";
import { startTestDns, type TestDns } from "../helpers/dns-server.ts";
import { dkimpy, makeKey, message, signed, tempDir, type TestKey } from "./fixtures.ts";

let dns: TestDns;
let rsa: TestKey;
let ed: TestKey;
const tmp = tempDir();

beforeAll(async () => {
  [rsa, ed] = await Promise.all([makeKey("a.test", "k2026a", "rsa-sha256"), makeKey("a.test", "e2026a", "ed25519-sha256")]);
  expect(rsa.record.length).toBeGreaterThan(255);
  dns = await startTestDns({ [rsa.name]: { TXT: [rsa.record] }, [ed.name]: { TXT: [ed.record] }, "a.test": { TXT: ["v=spf1 -all"] } });
});
afterAll(async () => {
  await dns.close();
  tmp.rm();
});

async function pyVerify(msg: Uint8Array): Promise<{ ok: boolean; d: string; s: string; a: string }[]> {
  return JSON.parse(await dkimpy(["verify", "127.0.0.1", String(dns.port)], msg));
}

test("kotakpos signs (RSA-2048 and Ed25519, oversigned), dkimpy verifies both over DNS", async () => {
  const msg = signed(message("alice@a.test", { body: "Hi Bob,\r\n\r\n  trailing spaces   \r\n\r\n\r\n" }), [rsa.key, ed.key]);
  const res = await pyVerify(msg);
  expect(res).toEqual([
    { ok: true, d: "a.test", s: "k2026a", a: "rsa-sha256" },
    { ok: true, d: "a.test", s: "e2026a", a: "ed25519-sha256" },
  ]);
});

test("dkimpy rejects our signatures once the message is changed", async () => {
  const msg = signed(message("alice@a.test", { subject: "original" }), [rsa.key, ed.key]);
  const changed = Buffer.from(msg.toString("latin1").replace("Subject: original", "Subject: changed!"), "latin1");
  expect((await pyVerify(changed)).map((r) => r.ok)).toEqual([false, false]);
  // An added second Subject (oversigned) also breaks it.
  const added = Buffer.from(msg.toString("latin1").replace("Subject: original", "Subject: original\r\nSubject: extra"), "latin1");
  expect((await pyVerify(added)).map((r) => r.ok)).toEqual([false, false]);
});

test("an 8-bit header and an empty body sign and verify", async () => {
  const raw = Buffer.concat([Buffer.from("From: Zoë <zoe@a.test>\r\nTo: b@b.test\r\nSubject: =?utf-8?q?caf=C3=A9?=\r\nDate: Sun, 22 Nov 2026 03:00:00 +0000\r\n\r\n")]);
  const res = await pyVerify(signed(raw, [rsa.key, ed.key]));
  expect(res.map((r) => r.ok)).toEqual([true, true]);
});

async function verifyOurs(msg: Uint8Array) {
  const resolver = createResolver({ servers: [dns.server], timeoutMs: 1500 });
  return checkInbound({ raw: msg, ip: "127.0.0.1", helo: "client.example", mailFrom: "x@a.test", hostname: "mx.example.test", resolver: resolver.resolve });
}

test("dkimpy signs with RSA-2048, kotakpos verifies", async () => {
  const keyFile = tmp.file("rsa.pem", rsa.pem);
  const msg = message("alice@a.test");
  const sig = await dkimpy(["sign", "k2026a", "a.test", keyFile, "rsa-sha256"], msg);
  expect(sig).toStartWith("DKIM-Signature:");
  const r = await verifyOurs(Buffer.concat([Buffer.from(sig), msg]));
  expect(r.dkim.map((d) => [d.status.result, d.signingDomain])).toEqual([["pass", "a.test"]]);
  expect(r.header).toContain("dkim=pass");
  // Tampered: fails.
  const bad = Buffer.from(
    Buffer.concat([Buffer.from(sig), msg])
      .toString("latin1")
      .replace("Hello", "Howdy"),
    "latin1",
  );
  expect((await verifyOurs(bad)).dkim[0]!.status.result).toBe("fail");
});

test("dkimpy signs with Ed25519, kotakpos verifies", async () => {
  // dkimpy takes the raw 32-byte Ed25519 seed, base64: the tail of the PKCS#8 DER.
  const der = createPrivateKey(ed.pem).export({ type: "pkcs8", format: "der" });
  const keyFile = tmp.file("ed.key", der.subarray(der.length - 32).toString("base64"));
  const msg = message("alice@a.test");
  const sig = await dkimpy(["sign", "e2026a", "a.test", keyFile, "ed25519-sha256"], msg);
  const r = await verifyOurs(Buffer.concat([Buffer.from(sig), msg]));
  expect(r.dkim.map((d) => [d.status.result, d.signingDomain])).toEqual([["pass", "a.test"]]);
  expect(r.header).toContain("header.a=ed25519-sha256");
});
