// User A on one kotakpos to user B on another, over MX delivery (issue 4):
// submission at A (nodemailer as the client) → A's spool → MX lookup at the test DNS →
// B's SMTP port → Bob's INBOX. Also: B down then up, unknown user, null MX, MX fallback.
import { afterAll, beforeAll, expect, test } from "bun:test";
import nodemailer from "nodemailer";
import type { TestServer } from "../helpers/server.ts";
import type { TestDns } from "../helpers/dns-server.ts";
import { ALICE, BOB, inbox, startDnsFor, startSide, twoPorts, until } from "../helpers/pair.ts";
import { rmSync } from "node:fs";

let dns: TestDns;
let a: TestServer;
let b: TestServer;
let aPort: number;
let bPort: number;

beforeAll(async () => {
  dns = await startDnsFor("a.test", "b.test");
  [aPort, bPort] = await twoPorts();
  [a, b] = await Promise.all([startSide("a.test", ALICE, aPort, bPort, dns), startSide("b.test", BOB, bPort, aPort, dns)]);
});
afterAll(async () => {
  for (const s of [a, b]) {
    await s?.cleanup();
    if (s) rmSync(s.dataDir, { recursive: true, force: true });
  }
  await dns?.close();
});

async function submit(to: string[], subject: string, text = "Hello from Alice.\n") {
  const t = nodemailer.createTransport({
    host: "127.0.0.1",
    port: a.port("submission"),
    secure: false,
    auth: { user: ALICE.address, pass: ALICE.password },
    tls: { rejectUnauthorized: false },
  });
  try {
    return await t.sendMail({ from: ALICE.address, to, subject, text });
  } finally {
    t.close();
  }
}

test("a message submitted at A arrives in Bob's INBOX at B", async () => {
  const info = await submit([BOB.address], "Hi Bob");
  expect(info.accepted).toEqual([BOB.address]);
  const msg = await until("Bob's message", async () => (await inbox(b, BOB.address)).find((m) => m.includes("Subject: Hi Bob")));
  expect(msg).toContain("Hello from Alice.");
  expect(msg).toContain(`From: ${ALICE.address}`);
  // B's Received line names A's EHLO host.
  expect(msg).toMatch(/Received: from mx\.a\.test/i);
});

test("B down: the message is deferred, then delivered after B comes back", async () => {
  await b.stop();
  await submit([BOB.address], "While you were out");
  const queued = await until("deferred row", async () => (await a.core.spool.list()).find((e) => e.status === "deferred" && e.recipient === BOB.address));
  expect(queued.attempts).toBeGreaterThanOrEqual(1);
  expect(queued.lastError).toBeTruthy();
  b = await startSide("b.test", BOB, bPort, aPort, dns, { dataDir: b.dataDir });
  await until("delivery after retry", async () => (await inbox(b, BOB.address)).some((m) => m.includes("Subject: While you were out")));
  // A records the outcome after B's 250: the message may be in B's INBOX a moment before.
  const rows = await until("delivered recorded", async () => {
    const r = await a.core.spool.get(queued.id);
    return r[0]!.status === "delivered" ? r : undefined;
  });
  expect(rows[0]!.attempts).toBeGreaterThanOrEqual(2);
});

test("an unknown user at B: Alice gets a bounce (RFC 3464) in her INBOX", async () => {
  await submit(["nobody@b.test"], "To nobody");
  const bounce = await until("bounce", async () => (await inbox(a, ALICE.address)).find((m) => m.includes("Undelivered Mail Returned to Sender: To nobody")));
  expect(bounce).toContain("multipart/report; report-type=delivery-status");
  expect(bounce).toContain("Final-Recipient: rfc822; nobody@b.test");
  expect(bounce).toContain("Action: failed");
  expect(bounce).toMatch(/Status: 5\.\d+\.\d+/);
  expect(bounce).toContain("Remote-MTA: dns; mx.b.test");
  expect(bounce).toContain("Subject: To nobody"); // the original comes back
});

test("null MX: an immediate bounce, no retries", async () => {
  dns.set("nomail.test", { MX: [{ exchange: "", priority: 0 }] });
  await submit(["someone@nomail.test"], "To a null MX");
  const bounce = await until("bounce", async () => (await inbox(a, ALICE.address)).find((m) => m.includes("Returned to Sender: To a null MX")));
  expect(bounce).toContain("Status: 5.1.10");
  const all = await a.core.spool.list();
  expect(all.some((e) => e.recipient === "someone@nomail.test")).toBe(false); // nothing left pending
});

test("two MX hosts, the first down: delivered through the second", async () => {
  dns.set("b2.test", {
    MX: [
      { exchange: "mx1.b2.test", priority: 10 },
      { exchange: "mx2.b2.test", priority: 20 },
    ],
  });
  dns.set("mx1.b2.test", { A: ["127.0.0.2"] }); // loopback address where nothing listens
  dns.set("mx2.b2.test", { A: ["127.0.0.1"] });
  await b.core.store.addDomain("b2.test");
  await b.core.store.createAccount("carol@b2.test", "carol-password-1");
  await submit(["carol@b2.test"], "Via the backup MX");
  await until("delivery via mx2", async () => (await inbox(b, "carol@b2.test")).some((m) => m.includes("Subject: Via the backup MX")));
});
