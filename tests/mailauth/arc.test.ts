// ARC sealing when forwarding (RFC 8617 §5.1): mail we received and authenticated (our
// Authentication-Results on top) goes out again to a remote address; the seal must verify
// with mailauth (our inbound check) and with dkimpy's independent ARC implementation.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { createResolver } from "../../core/dns/index.ts";
import { checkInbound } from "../../plugins/mailauth/inbound.ts";
import { createKeyCache, listKeys } from "../../plugins/mailauth/keys.ts";
import { signOutgoing } from "../../plugins/mailauth/outbound.ts";
import { dkimRecordText } from "../../plugins/mailauth/records.ts";
import { tempDb } from "../../plugins/mailauth/test-db.ts";
import { startTestDns, type TestDns } from "../helpers/dns-server.ts";
import { dkimpy, message } from "./fixtures.ts";

let dns: TestDns;
let t: Awaited<ReturnType<typeof tempDb>>;
const HOST = "mx.fwd.test";

beforeAll(async () => {
  dns = await startTestDns({ "origin.test": { TXT: ["v=spf1 -all"] } });
  t = await tempDb(["fwd.test"]);
});
afterAll(async () => {
  await dns.close();
  await t.cleanup();
});

function received(): Buffer {
  // What the smtp plugin stored: our A-R and Received above the message as sent.
  const ar = `Authentication-Results: ${HOST};\r\n dkim=none;\r\n spf=pass smtp.mailfrom=someone@origin.test;\r\n arc=none;\r\n dmarc=none header.from=origin.test\r\n`;
  const rcvd = `Received: from client.origin.test ([192.0.2.1])\r\n\tby ${HOST} (kotakpos) with ESMTP id x1;\r\n\tSun, 22 Nov 2026 03:00:00 +0000\r\n`;
  return Buffer.concat([Buffer.from(ar + rcvd), message("someone@origin.test")]);
}

test("a forwarded message is ARC-sealed (cv=none) and DKIM-signed by the forwarding domain", async () => {
  const keys = createKeyCache(t.db);
  const raw = received();
  const out = await signOutgoing(
    { id: "f1", mailFrom: "SRS0=abcd=XY=origin.test=someone@fwd.test", recipients: ["friend@remote.test"], domain: "remote.test", fromDomain: "origin.test", raw },
    { keys, isLocal: async (d) => d === "fwd.test", hostname: HOST, arcSeal: true },
  );
  const names = out.map((h) => h.slice(0, h.indexOf(":")));
  expect(names).toEqual(["ARC-Seal", "ARC-Message-Signature", "ARC-Authentication-Results", "DKIM-Signature", "DKIM-Signature"]);
  expect(out[0]).toContain("cv=none");
  expect(out[2]).toContain(`i=1; ${HOST};`);

  for (const k of await listKeys(t.db, "fwd.test")) dns.set(`${k.selector}._domainkey.fwd.test`, { TXT: [dkimRecordText(k)] });
  const sent = Buffer.concat([Buffer.from(out.join("")), raw]);

  const py = JSON.parse(await dkimpy(["arc-verify", "127.0.0.1", String(dns.port)], sent)) as { cv: string };
  expect(py.cv).toBe("pass");

  const resolver = createResolver({ servers: [dns.server], timeoutMs: 1500 });
  const check = (trustedArcSealers: string[]) =>
    checkInbound({ raw: sent, ip: "127.0.0.1", helo: HOST, mailFrom: "SRS0=abcd=XY=origin.test=someone@fwd.test", hostname: "mx.remote.test", resolver: resolver.resolve, trustedArcSealers });
  const r = await check([]);
  expect(r.arc?.status.result).toBe("pass");
  expect(r.dkim.filter((d) => d.status.result === "pass").map((d) => d.signingDomain)).toEqual(["fwd.test", "fwd.test"]);

  // origin.test says p=reject and nothing aligns after forwarding: rejected, unless the
  // receiver trusts the sealer's ARC chain (RFC 8617 §7.2.1).
  dns.set("_dmarc.origin.test", { TXT: ["v=DMARC1; p=reject"] });
  expect((await check([])).verdict.kind).toBe("reject");
  expect((await check(["fwd.test"])).verdict.kind).toBe("pass");
  expect((await check(["other-forwarder.test"])).verdict.kind).toBe("reject");
});

test("no seal for our own users' mail, for mail we did not receive, or with sealing off", async () => {
  const keys = createKeyCache(t.db);
  const deps = { keys, isLocal: async (d: string) => d === "fwd.test", hostname: HOST, arcSeal: true };
  const own = await signOutgoing({ id: "o", mailFrom: "me@fwd.test", recipients: ["x@remote.test"], domain: "remote.test", fromDomain: "fwd.test", raw: message("me@fwd.test") }, deps);
  expect(own.every((h) => h.startsWith("DKIM-Signature:"))).toBe(true);
  const noAr = await signOutgoing({ id: "n", mailFrom: "SRS0=x@fwd.test", recipients: ["x@remote.test"], domain: "remote.test", fromDomain: "origin.test", raw: message("someone@origin.test") }, deps);
  expect(noAr.some((h) => h.startsWith("ARC-"))).toBe(false);
  const off = await signOutgoing(
    { id: "f", mailFrom: "SRS0=x@fwd.test", recipients: ["x@remote.test"], domain: "remote.test", fromDomain: "origin.test", raw: received() },
    { ...deps, arcSeal: false },
  );
  expect(off.some((h) => h.startsWith("ARC-"))).toBe(false);
});

test("an IDN local domain signs with its A-label (d=xn--…), whichever spelling the sender used", async () => {
  const idn = await tempDb(["bücher.test"]);
  try {
    const keys = createKeyCache(idn.db);
    const deps = { keys, isLocal: async (d: string) => d === "bücher.test", hostname: HOST, arcSeal: true };
    for (const from of ["klaus@bücher.test", "klaus@xn--bcher-kva.test"]) {
      // The envelope is not local: the From field alone picks the signing domain.
      const out = await signOutgoing({ id: "i", mailFrom: "bounce@elsewhere.test", recipients: ["x@remote.test"], domain: "remote.test", fromDomain: "", raw: message(from) }, deps);
      expect(out.map((h) => /d=([^;]+);/.exec(h)![1])).toEqual(["xn--bcher-kva.test", "xn--bcher-kva.test"]);
    }
    // One key pair per algorithm, stored under the U-label.
    expect((await listKeys(idn.db, "bücher.test")).length).toBe(2);
  } finally {
    await idn.cleanup();
  }
});
