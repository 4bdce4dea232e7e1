// Issue 11 item 4, as an attacker connects: silent clients on the implicit-TLS ports are
// dropped after the handshake timeout (a real TLS client is not); the per-IP limit counts
// per listener (an office behind one address fills IMAP and still sends mail); past the
// global cap new connections are refused clearly and a log line says so.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import * as net from "node:net";
import * as tls from "node:tls";
import { createLogger } from "../../core/log.ts";
import imap from "../../plugins/imap/index.ts";
import pop3 from "../../plugins/pop3/index.ts";
import smtp from "../../plugins/smtp/index.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";

const logLines: string[] = [];
let s: TestServer;

beforeAll(async () => {
  s = await startTestServer({
    plugins: [smtp, imap, pop3],
    config: { listen: { tlsHandshakeSeconds: 1, maxConnectionsPerIp: 5, maxConnections: 40 } },
    log: createLogger("info", {}, (l) => void logLines.push(l)),
  });
});
afterAll(async () => {
  await s?.cleanup();
});

interface Sock {
  sock: net.Socket;
  data: () => string;
  closed: Promise<number>;
}

/** A TCP connection from `src` that sends nothing; `closed` resolves with ms until the server closed it. */
async function silent(port: number, src = "127.0.0.1"): Promise<Sock> {
  const t0 = performance.now();
  const sock = net.connect({ port, host: "127.0.0.1", localAddress: src });
  let buf = "";
  sock.on("data", (d) => (buf += d.toString("latin1")));
  sock.on("error", () => {});
  const closed = new Promise<number>((res) => sock.on("close", () => res(performance.now() - t0)));
  await new Promise<void>((res, rej) => {
    sock.once("connect", () => res());
    sock.once("error", rej);
  });
  return { sock, data: () => buf, closed };
}

/** kotakpos_connections_refused_total by reason, from /metrics (one registry per process:
 *  compare before and after). */
async function refused(): Promise<Record<string, number>> {
  const token = readFileSync(join(s.dataDir, "admin.token"), "utf8").trim();
  const text = await (await fetch(`http://127.0.0.1:${s.port("http")}/metrics`, { headers: { authorization: `Bearer ${token}` } })).text();
  const out: Record<string, number> = {};
  for (const m of text.matchAll(/^kotakpos_connections_refused_total\{[^}]*reason="([^"]+)"[^}]*\} (\d+)$/gm)) out[m[1]!] = (out[m[1]!] ?? 0) + Number(m[2]);
  return out;
}

const until = async (cond: () => boolean, ms = 5000) => {
  const end = Date.now() + ms;
  while (!cond() && Date.now() < end) await Bun.sleep(20);
  return cond();
};

describe("implicit TLS: a client that never starts the handshake", () => {
  test("10 silent connections per port (465, 993, 995) are closed after the 1 s handshake timeout", async () => {
    const before = await refused();
    const socks = await Promise.all(["submissions", "imaps", "pop3s"].flatMap((name) => Array.from({ length: 10 }, (_, i) => silent(s.port(name), `127.0.1.${i + 1}`))));
    const times = await Promise.all(socks.map((x) => Promise.race([x.closed, Bun.sleep(5000).then(() => Infinity)])));
    console.log(`silent TLS clients closed after ${Math.min(...times).toFixed(0)}–${Math.max(...times).toFixed(0)} ms (timeout 1000 ms)`);
    for (const t of times) {
      expect(t).toBeGreaterThanOrEqual(900);
      expect(t).toBeLessThan(5000);
    }
    expect(logLines.some((l) => l.includes("tls handshake timeout"))).toBe(true);
    expect((await refused()).tls_handshake_timeout! - (before.tls_handshake_timeout ?? 0)).toBe(30);
  }, 20_000);

  test("a client that completes the handshake stays past the timeout", async () => {
    const t = tls.connect({ port: s.port("imaps"), host: "127.0.0.1", rejectUnauthorized: false });
    let buf = "";
    t.on("data", (d) => (buf += d.toString()));
    await until(() => buf.includes("* OK"));
    await Bun.sleep(1500);
    t.write("a1 NOOP\r\n");
    expect(await until(() => buf.includes("a1 OK"))).toBe(true);
    t.destroy();
  }, 10_000);
});

describe("per-IP limit per listener", () => {
  test("one address fills its 5 IMAP connections: the 6th is refused, SMTP and POP3 still greet it", async () => {
    const src = "127.0.2.1";
    const held = await Promise.all(Array.from({ length: 5 }, () => silent(s.port("imap"), src)));
    expect(await until(() => held.every((h) => h.data().startsWith("* OK")))).toBe(true);
    const sixth = await silent(s.port("imap"), src);
    await sixth.closed;
    expect(sixth.data()).toMatch(/^\* BYE .*Too many connections from your address/);
    for (const [name, greeting] of [
      ["smtp", /^220 /],
      ["pop3", /^\+OK /],
    ] as const) {
      const c = await silent(s.port(name), src);
      expect(await until(() => greeting.test(c.data()))).toBe(true);
      c.sock.destroy();
    }
    for (const h of held) h.sock.destroy();
  }, 20_000);
});

describe("global connection cap (40)", () => {
  test("40 silent connections from 8 addresses: the next is refused (SMTP 421, IMAP BYE, TLS closed) and logged; freed slots serve again", async () => {
    await Bun.sleep(300); // earlier tests' sockets are gone
    const before = await refused();
    const held = await Promise.all(Array.from({ length: 40 }, (_, i) => silent(s.port("smtp"), `127.0.3.${(i % 8) + 1}`)));
    await until(() => held.every((h) => h.data().startsWith("220 ")));
    const smtpRefused = await silent(s.port("smtp"), "127.0.4.1");
    await smtpRefused.closed;
    expect(smtpRefused.data()).toBe("421 4.3.2 Server busy: too many connections, try again later\r\n");
    const imapRefused = await silent(s.port("imap"), "127.0.4.2");
    await imapRefused.closed;
    expect(imapRefused.data()).toMatch(/^\* BYE .*Server busy/);
    const tlsRefused = await silent(s.port("imaps"), "127.0.4.3");
    expect(await Promise.race([tlsRefused.closed, Bun.sleep(900).then(() => Infinity)])).toBeLessThan(900);
    expect(logLines.filter((l) => l.includes("connection cap reached")).length).toBeGreaterThanOrEqual(1);
    console.log(logLines.find((l) => l.includes("connection cap reached"))?.trim());
    expect((await refused()).global_cap! - (before.global_cap ?? 0)).toBe(3);
    for (const h of held.slice(0, 5)) h.sock.destroy();
    await Bun.sleep(200);
    const again = await silent(s.port("smtp"), "127.0.4.4");
    expect(await until(() => again.data().startsWith("220 "))).toBe(true);
    for (const h of [...held, again]) h.sock.destroy();
  }, 20_000);
});
