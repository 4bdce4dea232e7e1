// The delivery engine's limits: per-domain and global concurrency, connection reuse.
// The peer is a minimal scripted SMTP responder that counts connections.
import { afterAll, beforeAll, expect, test } from "bun:test";
import net from "node:net";
import * as v from "valibot";
import { ConfigSchema } from "../config.ts";
import { createHooks } from "../hooks.ts";
import { createLogger } from "../log.ts";
import { createResolver } from "../dns/index.ts";
import { createDelivery, statusOf, type DeliveryJob } from "./index.ts";
import { startTestDns, type TestDns } from "../../tests/helpers/dns-server.ts";

interface Counter {
  open: number;
  max: number;
  total: number;
  messages: number;
}

function scriptedPeer(delayMs: number, closeAfterEach = false, brokenTls = false): Promise<{ port: number; counter: Counter; close(): void }> {
  const counter: Counter = { open: 0, max: 0, total: 0, messages: 0 };
  const server = net.createServer((s) => {
    counter.open++;
    counter.total++;
    counter.max = Math.max(counter.max, counter.open);
    s.on("close", () => counter.open--);
    s.on("error", () => {});
    let buf = "";
    let inData = false;
    s.write("220 peer ready\r\n");
    s.on("data", async (c) => {
      buf += c.toString("latin1");
      for (;;) {
        if (inData) {
          const end = buf.indexOf("\r\n.\r\n");
          if (end < 0) return;
          buf = buf.slice(end + 5);
          inData = false;
          await Bun.sleep(delayMs);
          counter.messages++;
          s.write("250 2.0.0 ok\r\n");
          if (closeAfterEach) return void s.end("421 4.4.2 closing\r\n");
          continue;
        }
        const i = buf.indexOf("\r\n");
        if (i < 0) return;
        const line = buf.slice(0, i).toUpperCase();
        buf = buf.slice(i + 2);
        if (line.startsWith("EHLO")) s.write(brokenTls ? "250-peer\r\n250-STARTTLS\r\n250 PIPELINING\r\n" : "250-peer\r\n250 PIPELINING\r\n");
        else if (line.startsWith("STARTTLS")) {
          // Says yes, then answers the TLS handshake with plaintext garbage.
          s.write("220 go ahead\r\n");
          s.once("data", () => s.end("this is not TLS\r\n"));
          return;
        } else if (line.startsWith("DATA")) {
          inData = true;
          s.write("354 go\r\n");
        } else if (line.startsWith("QUIT")) s.end("221 bye\r\n");
        else s.write("250 ok\r\n");
      }
    });
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve({ port: (server.address() as net.AddressInfo).port, counter, close: () => server.close() })));
}

let dns: TestDns;
beforeAll(async () => {
  dns = await startTestDns();
  for (const d of ["one.test", "two.test", "three.test"]) dns.set(d, { A: ["127.0.0.1"] }); // implicit MX
});
afterAll(() => dns.close());

function engine(port: number, concurrency: number, perDomain: number) {
  const config = v.parse(ConfigSchema, { hostname: "mx.a.test", delivery: { port, concurrency, perDomain } });
  const log = createLogger("error");
  return createDelivery({ config, hooks: createHooks(log), log, resolver: createResolver({ servers: [dns.server], timeoutMs: 1000 }), hostname: "mx.a.test", idleMs: 200 });
}

const job = (i: number, domain: string): DeliveryJob => ({
  id: `m${i}`,
  domain,
  mailFrom: "alice@a.test",
  recipients: [{ address: `u${i}@${domain}` }],
  load: async () => new TextEncoder().encode(`Subject: ${i}\r\n\r\nbody\r\n`),
});

test("one domain: at most perDomain connections, each reused for many messages", async () => {
  const peer = await scriptedPeer(20);
  const d = engine(peer.port, 20, 3);
  try {
    const results = await Promise.all(Array.from({ length: 30 }, (_, i) => d.deliver(job(i, "one.test"))));
    expect(results.every((r) => r[0]!.ok)).toBe(true);
    expect(peer.counter.messages).toBe(30);
    expect(peer.counter.max).toBe(3);
    expect(peer.counter.total).toBe(3);
  } finally {
    await d.close();
    peer.close();
  }
});

test("global concurrency caps connections across domains", async () => {
  const peer = await scriptedPeer(20);
  const d = engine(peer.port, 2, 4);
  try {
    const jobs = Array.from({ length: 24 }, (_, i) => job(i, ["one.test", "two.test", "three.test"][i % 3]!));
    const results = await Promise.all(jobs.map((j) => d.deliver(j)));
    expect(results.every((r) => r[0]!.ok)).toBe(true);
    expect(peer.counter.max).toBeLessThanOrEqual(2);
    expect(peer.counter.messages).toBe(24);
  } finally {
    await d.close();
    peer.close();
  }
});

test("a peer that drops the reused connection: the next message goes over a fresh one", async () => {
  const peer = await scriptedPeer(5, true);
  const d = engine(peer.port, 20, 1);
  try {
    const results = await Promise.all(Array.from({ length: 5 }, (_, i) => d.deliver(job(i, "one.test"))));
    expect(results.map((r) => r[0]!.ok)).toEqual([true, true, true, true, true]);
    expect(peer.counter.messages).toBe(5);
    expect(peer.counter.total).toBe(5);
  } finally {
    await d.close();
    peer.close();
  }
});

test("a broken STARTTLS handshake: the same host again without TLS (opportunistic)", async () => {
  const peer = await scriptedPeer(1, false, true);
  const d = engine(peer.port, 20, 1);
  try {
    const [r] = await d.deliver(job(1, "one.test"));
    expect(r!.ok).toBe(true);
    expect(peer.counter.total).toBe(2);
    expect(peer.counter.messages).toBe(1);
  } finally {
    await d.close();
    peer.close();
  }
});

test("statusOf takes the enhanced code or derives one from the basic code", () => {
  expect(statusOf("550 5.1.1 no such user", true)).toBe("5.1.1");
  expect(statusOf("451 try later", false)).toBe("4.0.0");
  expect(statusOf("connection refused", false)).toBe("4.4.1");
});
