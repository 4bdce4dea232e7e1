// The outbound client against Python's aiosmtpd (a peer we did not write).
import { afterAll, beforeAll, expect, test } from "bun:test";
import net from "node:net";
import { connectSmtp, DeliveryError } from "./smtp-client.ts";
import { startAiosmtpd, freePort, type Aiosmtpd } from "../../tests/helpers/aiosmtpd.ts";

let plain: Aiosmtpd;
let tlsPeer: Aiosmtpd;
const enc = (s: string) => new TextEncoder().encode(s);
const msg = (subject: string, body = "hello\r\n.dot line\r\n") => enc(`From: a@a.test\r\nTo: b@b.test\r\nSubject: ${subject}\r\n\r\n${body}`);

beforeAll(async () => {
  [plain, tlsPeer] = await Promise.all([startAiosmtpd({ size: 100_000 }), startAiosmtpd({ tls: true, smtputf8: true })]);
});
afterAll(async () => {
  await Promise.all([plain?.stop(), tlsPeer?.stop()]);
});

const connect = (port: number, tls: "opportunistic" | "none" | "required" = "opportunistic") => connectSmtp({ address: "127.0.0.1", port, hostname: "localhost", helo: "out.a.test", tls });

test("delivers several messages over one connection; per-recipient replies; dot-stuffing", async () => {
  const c = await connect(plain.port);
  expect(c.secure).toBe(false);
  expect(c.extensions.has("SIZE")).toBe(true);
  const r1 = await c.send({ mailFrom: "alice@a.test", recipients: [{ address: "bob@b.test" }, { address: "reject-me@b.test" }, { address: "tempfail@b.test" }] }, [enc("X-Prefix: 1\r\n"), msg("one")]);
  expect(r1.recipients.map((r) => [r.address, r.ok, r.permanent])).toEqual([
    ["bob@b.test", true, false],
    ["reject-me@b.test", false, true],
    ["tempfail@b.test", false, false],
  ]);
  expect(r1.recipients[1]!.reply).toContain("550 5.1.1");
  const r2 = await c.send({ mailFrom: "", recipients: [{ address: "carol@b.test" }] }, [msg("two")]);
  expect(r2.recipients[0]!.ok).toBe(true);
  // All recipients refused: no data sent, the connection stays usable.
  const r3 = await c.send({ mailFrom: "alice@a.test", recipients: [{ address: "reject1@b.test" }] }, [msg("three")]);
  expect(r3.recipients[0]!.permanent).toBe(true);
  expect(c.usable).toBe(true);
  await c.quit();

  const got = plain.messages().sort((a, b) => a.data.localeCompare(b.data));
  expect(got.length).toBe(2);
  const one = got.find((m) => m.data.includes("Subject: one"))!;
  expect(one.mailFrom).toBe("alice@a.test");
  expect(one.rcptTo).toEqual(["bob@b.test"]);
  expect(one.helo).toBe("out.a.test");
  expect(one.data).toStartWith("X-Prefix: 1\r\nFrom: a@a.test");
  expect(one.data).toContain("\r\n.dot line\r\n");
  expect(one.mailOptions.some((o) => o.startsWith("SIZE="))).toBe(true);
  const two = got.find((m) => m.data.includes("Subject: two"))!;
  expect(two.mailFrom).toBe("<>"); // aiosmtpd spells the null reverse-path so
});

test("opportunistic STARTTLS with a self-signed certificate; SMTPUTF8 when needed", async () => {
  const c = await connect(tlsPeer.port);
  expect(c.secure).toBe(true);
  const r = await c.send({ mailFrom: "alice@a.test", recipients: [{ address: "jösé@b.test" }] }, [msg("utf8", "grüße\r\n")]);
  expect(r.recipients[0]!.ok).toBe(true);
  await c.quit();
  const m = tlsPeer.messages().find((x) => x.data.includes("Subject: utf8"))!;
  expect(m.tls).toBe(true);
  expect(m.rcptTo).toEqual(["jösé@b.test"]);
  expect(m.mailOptions).toContain("SMTPUTF8");
});

test("a peer without SMTPUTF8 gets no UTF-8 address: permanent 5.6.7, connection still usable", async () => {
  const c = await connect(plain.port);
  const r = await c.send({ mailFrom: "alice@a.test", recipients: [{ address: "jösé@b.test" }] }, [msg("nope")]);
  expect(r.recipients[0]).toMatchObject({ ok: false, permanent: true });
  expect(r.recipients[0]!.reply).toContain("5.6.7");
  expect(c.usable).toBe(true);
  await c.quit();
  expect(plain.messages().some((m) => m.data.includes("Subject: nope"))).toBe(false);
});

test("a message over the peer's SIZE is refused before sending (5.3.4)", async () => {
  const c = await connect(plain.port);
  const r = await c.send({ mailFrom: "alice@a.test", recipients: [{ address: "bob@b.test" }] }, [msg("big", "x".repeat(200_000))]);
  expect(r.recipients[0]).toMatchObject({ ok: false, permanent: true });
  expect(r.recipients[0]!.reply).toContain("5.3.4");
  await c.quit();
});

test("TLS required but not offered fails as a temporary connection error", async () => {
  const e = await connect(plain.port, "required").catch((x) => x);
  expect(e).toBeInstanceOf(DeliveryError);
  expect(e.connection).toBe(true);
});

test("connection refused and a silent peer are connection errors (timeouts bounded)", async () => {
  const port = await freePort();
  const refused = await connect(port).catch((x) => x);
  expect(refused).toBeInstanceOf(DeliveryError);
  expect(refused.connection).toBe(true);
  expect(refused.permanent).toBe(false);

  const silent = net.createServer(() => {}); // accepts, never greets
  await new Promise<void>((r) => silent.listen(0, "127.0.0.1", () => r()));
  try {
    const e = await connectSmtp({
      address: "127.0.0.1",
      port: (silent.address() as net.AddressInfo).port,
      hostname: "silent",
      helo: "out.a.test",
      tls: "opportunistic",
      timeouts: { greeting: 300 },
    }).catch((x) => x);
    expect(e).toBeInstanceOf(DeliveryError);
    expect(e.message).toContain("greeting");
  } finally {
    silent.close();
  }
});

test("a message larger than one data block (1 MiB) arrives whole", async () => {
  const c = await connect(tlsPeer.port);
  const line = "0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz\r\n";
  const body = line.repeat(Math.ceil((3 * 1024 * 1024) / line.length));
  const r = await c.send({ mailFrom: "alice@a.test", recipients: [{ address: "bob@b.test" }] }, [msg("large", body)]);
  expect(r.recipients[0]!.ok).toBe(true);
  await c.quit();
  const m = tlsPeer.messages().find((x) => x.data.includes("Subject: large"))!;
  expect(m.data.length).toBe(msg("large", body).length);
});
