// kotakpos delivering to an MTA we did not write: Python's aiosmtpd (Debian
// python3-aiosmtpd) with STARTTLS and a self-signed certificate.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import nodemailer from "nodemailer";
import type { TestServer } from "../helpers/server.ts";
import { startAiosmtpd, freePort, type Aiosmtpd } from "../helpers/aiosmtpd.ts";
import type { TestDns } from "../helpers/dns-server.ts";
import { ALICE, inbox, startDnsFor, startSide, until } from "../helpers/pair.ts";

let dns: TestDns;
let peer: Aiosmtpd;
let a: TestServer;

beforeAll(async () => {
  dns = await startDnsFor("a.test", "py.test");
  peer = await startAiosmtpd({ tls: true });
  a = await startSide("a.test", ALICE, await freePort(), peer.port, dns);
});
afterAll(async () => {
  await a?.cleanup();
  if (a) rmSync(a.dataDir, { recursive: true, force: true });
  await peer?.stop();
  await dns?.close();
});

async function submit(to: string, subject: string) {
  const t = nodemailer.createTransport({ host: "127.0.0.1", port: a.port("submission"), secure: false, auth: { user: ALICE.address, pass: ALICE.password }, tls: { rejectUnauthorized: false } });
  try {
    await t.sendMail({ from: ALICE.address, to, subject, text: "Grüße aus a.test\n.leading dot\n" });
  } finally {
    t.close();
  }
}

test("delivered to aiosmtpd over STARTTLS, EHLO with our hostname, body intact", async () => {
  await submit("someone@py.test", "Interop");
  const m = await until("aiosmtpd got it", () => peer.messages().find((x) => x.data.includes("Subject: Interop")));
  expect(m.tls).toBe(true);
  expect(m.helo).toBe("mx.a.test");
  expect(m.mailFrom).toBe(ALICE.address);
  expect(m.rcptTo).toEqual(["someone@py.test"]);
  expect(m.data).toContain("\r\n.leading dot\r\n");
});

test("aiosmtpd's 550 for a recipient becomes a bounce in Alice's INBOX", async () => {
  await submit("reject-me@py.test", "Refused by python");
  const bounce = await until("bounce", async () => (await inbox(a, ALICE.address)).find((x) => x.includes("Returned to Sender: Refused by python")));
  expect(bounce).toContain("Diagnostic-Code: smtp; 550 5.1.1 no such user");
});
