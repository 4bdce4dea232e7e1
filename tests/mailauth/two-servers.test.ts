// The whole flow between two kotakpos instances (a.test and b.test, built-in plugins): A
// publishes the records `kotakpos dns a.test` prints on the test DNS server; mail Alice
// submits at A reaches Bob at B with SPF, DKIM (RSA and Ed25519) and DMARC passing, and
// mail forging a.test goes to Bob's Junk folder (a.test says p=quarantine).
import { afterAll, beforeAll, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { join } from "node:path";
import nodemailer from "nodemailer";
import { mailauthConfigOf } from "../../plugins/mailauth/config.ts";
import { recordsForDomain } from "../../plugins/mailauth/service.ts";
import type { TestServer } from "../helpers/server.ts";
import type { TestDns } from "../helpers/dns-server.ts";
import { ALICE, BOB, inbox, startDnsFor, startSide, twoPorts, until } from "../helpers/pair.ts";
import { message, PYTHON } from "./fixtures.ts";

let dns: TestDns;
let a: TestServer;
let b: TestServer;

beforeAll(async () => {
  dns = await startDnsFor("a.test", "b.test");
  const [aPort, bPort] = await twoPorts();
  [a, b] = await Promise.all([startSide("a.test", ALICE, aPort, bPort, dns), startSide("b.test", BOB, bPort, aPort, dns)]);
  const records = await recordsForDomain({ db: a.core.db, config: a.core.config, mcfg: mailauthConfigOf(a.core.config as Record<string, unknown>) }, "a.test");
  for (const r of records.filter((x) => x.type === "TXT")) dns.set(r.name, { ...(dns.zone.get(r.name) ?? {}), TXT: [r.data] });
}, 30_000);
afterAll(async () => {
  for (const s of [a, b]) {
    await s?.cleanup();
    if (s) rmSync(s.dataDir, { recursive: true, force: true });
  }
  await dns?.close();
});

test("Alice at A → Bob at B: SPF, DKIM (both keys) and DMARC pass", async () => {
  const t = nodemailer.createTransport({ host: "127.0.0.1", port: a.port("submission"), secure: false, auth: { user: ALICE.address, pass: ALICE.password }, tls: { rejectUnauthorized: false } });
  try {
    await t.sendMail({ from: ALICE.address, to: BOB.address, subject: "Signed hello", text: "Hello from Alice.\n" });
  } finally {
    t.close();
  }
  const msg = await until("Bob's message", async () => (await inbox(b, BOB.address)).find((m) => m.includes("Subject: Signed hello")));
  const top = msg.replace(/^Return-Path: [^\r\n]*\r\n/, "");
  const ar = top.slice(0, top.indexOf("\r\nReceived:"));
  expect(ar).toStartWith("Authentication-Results: mx.b.test;");
  expect(ar.match(/dkim=pass[^;]*header\.d=a\.test/g)).toHaveLength(2);
  expect(ar).toMatch(/spf=pass[^;]*smtp\.mailfrom=alice@a\.test/);
  expect(ar).toMatch(/spf=pass[^;]*smtp\.helo=mx\.a\.test/);
  expect(ar).toContain("dmarc=pass");
});

test("a forger using a.test's From at B lands in Bob's Junk", async () => {
  const raw = message(ALICE.address, { subject: "Forged" }).toString("latin1").replace("To: User <user@example.test>", `To: ${BOB.address}`);
  const arg = JSON.stringify({ helo: "forger.test", from: "x@forger.test", to: [BOB.address], msg: raw });
  const p = Bun.spawn([PYTHON, join(import.meta.dir, "send.py"), String(b.port("smtp")), arg], { stdout: "pipe", stderr: "pipe" });
  expect(JSON.parse(await new Response(p.stdout).text())).toEqual({ ok: true });
  await p.exited;
  expect((await inbox(b, BOB.address)).some((m) => m.includes("Subject: Forged"))).toBe(false);
  const store = b.core.store;
  const acct = await store.getAccount(BOB.address);
  const junk = await store.getMailbox(acct!.id, "Junk");
  const msgs = await Promise.all((await store.messages(junk!.id)).map(async (m) => Buffer.from(await store.read(m)).toString("latin1")));
  const forged = msgs.find((m) => m.includes("Subject: Forged"));
  expect(forged).toBeDefined();
  expect(forged).toContain("dmarc=fail");
});
