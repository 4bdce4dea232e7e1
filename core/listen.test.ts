import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import * as net from "node:net";
import * as tls from "node:tls";
import selfsigned from "selfsigned";
import { createListenerSet, type ListenerSet } from "./listen.ts";
import { createLogger } from "./log.ts";
import type { Connection, Tls } from "./types.ts";

let pem: { key: string; cert: string };
let set: ListenerSet;
const t: Tls = { certificateFor: async () => pem, certificates: async () => ({ fallback: pem, named: [] }), changed: () => {}, onChange: () => () => {} };
const log = createLogger("error");

beforeAll(async () => {
  const p = await selfsigned.generate([{ name: "commonName", value: "localhost" }], { keySize: 2048, algorithm: "sha256" });
  pem = { key: p.private, cert: p.cert };
  set = createListenerSet({ address: "127.0.0.1", portOffset: 0, maxPerIp: 3, log, tls: t });
});
afterAll(() => set.shutdown(100));

/** A tiny line protocol: "STARTTLS" upgrades, anything else is echoed with the TLS state. */
function echo(conn: Connection): void {
  conn.write("hello\r\n");
  conn.onData(async (b) => {
    const line = b.toString().trim();
    if (line === "STARTTLS") {
      conn.write("go\r\n");
      await conn.upgradeTls().catch(() => {});
      return;
    }
    conn.write(`${line} secure=${conn.secure} ${conn.tls?.protocol ?? ""}${line === "plain?" ? ` plaintext=${conn.plaintextLoginAllowed}` : ""}\r\n`);
  });
}

function readLine(s: net.Socket): Promise<string> {
  return new Promise((res) => s.once("data", (d) => res(d.toString())));
}

describe("listeners", () => {
  test("plain listener and the STARTTLS upgrade", async () => {
    const l = await set.listen({ name: "t1", port: 0, mode: "plain", onConnection: echo });
    const s = net.connect(l.port, "127.0.0.1");
    expect(await readLine(s)).toBe("hello\r\n");
    s.write("ping\r\n");
    expect(await readLine(s)).toBe("ping secure=false \r\n");
    s.write("STARTTLS\r\n");
    expect(await readLine(s)).toBe("go\r\n");
    const t = tls.connect({ socket: s, rejectUnauthorized: false });
    await new Promise((r) => t.once("secureConnect", r));
    t.write("again\r\n");
    expect(await readLine(t as unknown as net.Socket)).toMatch(/^again secure=true TLSv1\.[23]/);
    t.destroy();
  });

  test("plaintextLoginAllowed: TLS, or loopback when auth.allowPlaintextOnLoopback is on (read per login)", async () => {
    let allow = false;
    const own = createListenerSet({ address: "127.0.0.1", portOffset: 0, maxPerIp: 10, log, tls: t, allowPlaintextOnLoopback: () => allow });
    const l = await own.listen({ name: "t-plain", port: 0, mode: "plain", onConnection: echo });
    const s = net.connect(l.port, "127.0.0.1");
    expect(await readLine(s)).toBe("hello\r\n");
    s.write("plain?\r\n");
    expect(await readLine(s)).toBe("plain? secure=false  plaintext=false\r\n");
    allow = true;
    s.write("plain?\r\n");
    expect(await readLine(s)).toBe("plain? secure=false  plaintext=true\r\n");
    allow = false;
    s.write("STARTTLS\r\n");
    expect(await readLine(s)).toBe("go\r\n");
    const c = tls.connect({ socket: s, rejectUnauthorized: false });
    await new Promise((r) => c.once("secureConnect", r));
    c.write("plain?\r\n");
    expect(await readLine(c as unknown as net.Socket)).toMatch(/^plain\? secure=true TLSv1\.[23] plaintext=true/);
    c.destroy();
    await own.shutdown(100);
  });

  test("implicit TLS listener", async () => {
    const l = await set.listen({ name: "t2", port: 0, mode: "implicit-tls", onConnection: echo });
    const t = tls.connect({ port: l.port, host: "127.0.0.1", rejectUnauthorized: false, servername: "localhost" });
    expect(await readLine(t as unknown as net.Socket)).toBe("hello\r\n");
    // Without SNI (an IP literal) the default certificate answers.
    const n = tls.connect({ port: l.port, host: "127.0.0.1", rejectUnauthorized: false });
    expect(await readLine(n as unknown as net.Socket)).toBe("hello\r\n");
    n.destroy();
    t.write("x\r\n");
    expect(await readLine(t as unknown as net.Socket)).toMatch(/^x secure=true TLSv1/);
    t.destroy();
  });

  test("per-IP connection limit refuses with the protocol's reply", async () => {
    const l = await set.listen({
      name: "t3",
      port: 0,
      mode: "plain",
      onConnection: () => {},
      onRefuse: (c, r) => c.write(`${r.code} ${r.text}\r\n`),
    });
    const socks = [1, 2, 3].map(() => net.connect(l.port, "127.0.0.1"));
    await Bun.sleep(100);
    const extra = net.connect(l.port, "127.0.0.1");
    expect(await readLine(extra)).toMatch(/^421 Too many connections/);
    for (const s of socks) s.destroy();
    extra.destroy();
  });

  test("idle timeout closes the connection", async () => {
    const l = await set.listen({ name: "t4", port: 0, mode: "plain", onConnection: (c) => c.setIdleTimeout(100) });
    const s = net.connect(l.port, "127.0.0.1");
    await new Promise((r) => s.once("close", r));
  });

  test("shutdown aborts sessions' closing signal and stops accepting", async () => {
    const own = createListenerSet({ address: "127.0.0.1", portOffset: 0, maxPerIp: 10, log, tls: t });
    let sawAbort = false;
    const l = await own.listen({
      name: "t5",
      port: 0,
      mode: "plain",
      onConnection: (c) => {
        c.write("hi\r\n");
        c.closing.addEventListener("abort", () => {
          sawAbort = true;
          c.write("bye\r\n");
          c.close();
        });
      },
    });
    const s = net.connect(l.port, "127.0.0.1");
    expect(await readLine(s)).toBe("hi\r\n");
    const closed = new Promise((r) => s.once("close", r));
    await own.shutdown(1000);
    await closed;
    expect(sawAbort).toBe(true);
    const refused = await new Promise<boolean>((r) => {
      const x = net.connect(l.port, "127.0.0.1");
      x.once("error", () => r(true));
      x.once("connect", () => (x.destroy(), r(false)));
    });
    expect(refused).toBe(true);
  });
});
