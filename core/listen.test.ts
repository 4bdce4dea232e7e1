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

  test("STARTTLS asks the certificate hook with the client's SNI, even when the hello comes in pieces", async () => {
    const other = await selfsigned.generate([{ name: "commonName", value: "other.test" }], { keyType: "ec", curve: "P-256", algorithm: "sha256" });
    const asked: (string | undefined)[] = [];
    const hooked: Tls = {
      ...t,
      certificateFor: async (name) => {
        asked.push(name);
        await Bun.sleep(20); // the hook is asynchronous (the acme plugin reads the database)
        return name === "other.test" ? { key: other.private, cert: other.cert } : pem;
      },
    };
    const own = createListenerSet({ address: "127.0.0.1", portOffset: 0, maxPerIp: 10, log, tls: hooked });
    const l = await own.listen({ name: "t6", port: 0, mode: "plain", onConnection: echo });
    for (const [servername, cn] of [
      ["other.test", "other.test"],
      [undefined, "localhost"],
    ] as const) {
      const s = net.connect(l.port, "127.0.0.1");
      s.setNoDelay(true);
      expect(await readLine(s)).toBe("hello\r\n");
      s.write("STARTTLS\r\n");
      expect(await readLine(s)).toBe("go\r\n");
      // The ClientHello leaves in 7-byte writes: the server must gather it before choosing.
      const { Duplex } = await import("node:stream");
      const slow = new Duplex({
        read() {},
        write(chunk: Buffer, _e, cb) {
          void (async () => {
            for (let i = 0; i < chunk.length; i += 7) {
              s.write(chunk.subarray(i, i + 7));
              await Bun.sleep(1);
            }
            cb();
          })();
        },
      });
      s.on("data", (d) => slow.push(d));
      const c = tls.connect({ socket: slow as unknown as net.Socket, servername, rejectUnauthorized: false });
      await new Promise((r) => c.once("secureConnect", r));
      expect(c.getPeerCertificate().subject?.CN).toBe(cn);
      c.write("x\r\n");
      expect(await readLine(c as unknown as net.Socket)).toMatch(/^x secure=true TLSv1\.[23]/);
      c.destroy();
      s.destroy();
    }
    expect(asked).toContain("other.test");
    await own.shutdown(100);
  });

  test("STARTTLS followed by bytes that are not TLS closes the connection", async () => {
    let failed: Error | undefined;
    const l = await set.listen({
      name: "t7",
      port: 0,
      mode: "plain",
      onConnection: (c) => {
        c.write("hello\r\n");
        c.onData(() => {
          c.write("go\r\n");
          c.upgradeTls().catch((e: Error) => (failed = e));
        });
      },
    });
    const s = net.connect(l.port, "127.0.0.1");
    expect(await readLine(s)).toBe("hello\r\n");
    s.write("STARTTLS\r\n");
    expect(await readLine(s)).toBe("go\r\n");
    const closed = new Promise((r) => s.once("close", r));
    s.on("error", () => {});
    s.write("EHLO not tls\r\n");
    await closed;
    expect(failed).toBeInstanceOf(Error);
  });

  test("writes beyond what the peer reads wait for drain and arrive whole, in order", async () => {
    const chunk = Buffer.alloc(256 * 1024);
    for (let i = 0; i < chunk.length; i++) chunk[i] = i % 251;
    let drained = false;
    const l = await set.listen({
      name: "t8",
      port: 0,
      mode: "plain",
      onConnection: async (c) => {
        for (let i = 0; i < 16; i++) c.write(chunk); // 4 MiB: more than the kernel buffers
        await c.drain();
        drained = true;
        c.write("end\r\n");
        c.close();
      },
    });
    const s = net.connect(l.port, "127.0.0.1");
    s.pause();
    await Bun.sleep(100);
    expect(drained).toBe(false); // the peer has not read yet
    const parts: Buffer[] = [];
    s.on("data", (d: Buffer) => parts.push(d));
    s.resume();
    await new Promise((r) => s.once("close", r));
    const all = Buffer.concat(parts);
    expect(all.length).toBe(16 * chunk.length + 5);
    for (let i = 0; i < 16; i++) expect(all.subarray(i * chunk.length, (i + 1) * chunk.length).equals(chunk)).toBe(true);
    expect(all.subarray(-5).toString()).toBe("end\r\n");
    expect(drained).toBe(true);
  });

  test("pause stops data events until resume", async () => {
    const seen: string[] = [];
    let conn: Connection | undefined;
    const l = await set.listen({
      name: "t9",
      port: 0,
      mode: "plain",
      onConnection: (c) => {
        conn = c;
        c.pause();
        c.onData((b) => seen.push(b.toString()));
        c.write("ready\r\n");
      },
    });
    const s = net.connect(l.port, "127.0.0.1");
    expect(await readLine(s)).toBe("ready\r\n");
    s.write("one\r\n");
    await Bun.sleep(100);
    expect(seen).toEqual([]);
    conn?.resume();
    await Bun.sleep(100);
    expect(seen.join("")).toBe("one\r\n");
    s.destroy();
  });

  test("a peer that closes after STARTTLS ends the session (onClose runs): close_notify and FIN, or a reset", async () => {
    let closed = 0;
    const l = await set.listen({
      name: "t10",
      port: 0,
      mode: "plain",
      onConnection: (c) => {
        echo(c);
        c.onClose(() => closed++);
      },
    });
    for (const how of ["end", "destroy"] as const) {
      const before = closed;
      const s = net.connect(l.port, "127.0.0.1");
      expect(await readLine(s)).toBe("hello\r\n");
      s.write("STARTTLS\r\n");
      expect(await readLine(s)).toBe("go\r\n");
      const c = tls.connect({ socket: s, rejectUnauthorized: false });
      await new Promise((r) => c.once("secureConnect", r));
      if (how === "end") c.end();
      else s.destroy();
      for (let i = 0; i < 40 && closed === before; i++) await Bun.sleep(25);
      expect(closed).toBe(before + 1);
    }
  });
});

describe("native TLS (Bun upgradeTLS)", () => {
  /** Certificates by name through an asynchronous hook, the default one swappable (a reload). */
  async function hookedTls() {
    const gen = (cn: string) => selfsigned.generate([{ name: "commonName", value: cn }], { keyType: "ec", curve: "P-256", algorithm: "sha256" });
    const [a, d1, d2] = await Promise.all([gen("a.test"), gen("default-1.test"), gen("default-2.test")]);
    let fallback = { key: d1.private, cert: d1.cert };
    const asked: (string | undefined)[] = [];
    const subs = new Set<() => void>();
    const hooked: Tls = {
      ...t,
      certificateFor: async (name) => {
        asked.push(name);
        await Bun.sleep(5); // the acme plugin reads the database
        return name === "a.test" ? { key: a.private, cert: a.cert } : fallback;
      },
      onChange: (cb) => (subs.add(cb), () => subs.delete(cb)),
    };
    const reload = () => {
      fallback = { key: d2.private, cert: d2.cert };
      for (const cb of subs) cb();
    };
    return { hooked, asked, reload };
  }
  const cnOf = async (port: number, servername?: string): Promise<string> => {
    const c = tls.connect({ port, host: "127.0.0.1", rejectUnauthorized: false, ...(servername && { servername }) });
    await new Promise((r) => c.once("secureConnect", r));
    const cn = String(c.getPeerCertificate().subject?.CN);
    c.destroy();
    return cn;
  };

  test("implicit TLS: the hook answers per SNI name; without SNI the default, which a reload replaces", async () => {
    const { hooked, asked, reload } = await hookedTls();
    const own = createListenerSet({ address: "127.0.0.1", portOffset: 0, maxPerIp: 10, log, tls: hooked });
    const l = await own.listen({ name: "n1", port: 0, mode: "implicit-tls", onConnection: echo });
    expect(await cnOf(l.port, "a.test")).toBe("a.test");
    expect(asked).toContain("a.test");
    expect(await cnOf(l.port, "unknown.test")).toBe("default-1.test");
    expect(await cnOf(l.port)).toBe("default-1.test");
    // A connection from before the reload goes on with its certificate.
    const before = tls.connect({ port: l.port, host: "127.0.0.1", rejectUnauthorized: false });
    expect(await readLine(before as unknown as net.Socket)).toBe("hello\r\n");
    reload(); // asynchronous: the hook is asked for the new default first
    let cn = "";
    for (let i = 0; i < 40 && cn !== "default-2.test"; i++) {
      await Bun.sleep(25);
      cn = await cnOf(l.port);
    }
    expect(cn).toBe("default-2.test");
    before.write("still\r\n");
    expect(await readLine(before as unknown as net.Socket)).toMatch(/^still secure=true/);
    before.destroy();
    expect(await cnOf(l.port, "unknown.test")).toBe("default-2.test");
    expect(await cnOf(l.port, "a.test")).toBe("a.test");
    for (let i = 0; i < 40 && own.stats.open > 0; i++) await Bun.sleep(25);
    expect(own.stats.open).toBe(0); // every closed TLS socket left the count
    await own.shutdown(100);
  });

  test("a command that comes in the same segment as the client's Finished is not lost (STARTTLS and implicit TLS)", async () => {
    const { hooked } = await hookedTls();
    const own = createListenerSet({ address: "127.0.0.1", portOffset: 0, maxPerIp: 50, log, tls: hooked });
    const plain = await own.listen({ name: "n2", port: 0, mode: "plain", onConnection: echo });
    const implicit = await own.listen({ name: "n3", port: 0, mode: "implicit-tls", onConnection: echo });
    // Python's TLS over memory buffers: the handshake's last flight and "early" leave in ONE send.
    const py = Bun.spawn(
      [
        "python3",
        "-c",
        `
import socket, ssl
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
def early(s, name):
    i, o = ssl.MemoryBIO(), ssl.MemoryBIO()
    t = ctx.wrap_bio(i, o, server_hostname=name)
    while True:
        try:
            t.do_handshake(); break
        except ssl.SSLWantReadError:
            if o.pending: s.sendall(o.read())
            i.write(s.recv(65536))
    t.write(b"early\\r\\n")
    s.sendall(o.read())
    got = b""
    while b"early" not in got:
        i.write(s.recv(65536))
        try:
            while True: got += t.read(65536)
        except ssl.SSLWantReadError:
            pass
    print(got.decode().replace("\\r\\n", "|"))
s = socket.create_connection(("127.0.0.1", ${plain.port})); f = s.makefile("rb")
f.readline(); s.sendall(b"STARTTLS\\r\\n"); f.readline()
early(s, "a.test")
early(socket.create_connection(("127.0.0.1", ${implicit.port})), None)
`,
      ],
      { stdout: "pipe", stderr: "pipe" },
    );
    const timer = setTimeout(() => py.kill(), 10_000);
    const out = await new Response(py.stdout).text();
    clearTimeout(timer);
    const lines = out.trim().split("\n");
    expect(lines[0]).toMatch(/^early secure=true TLSv1\.[23]/);
    expect(lines[1]).toMatch(/^hello\|early secure=true TLSv1\.[23]/);
    await own.shutdown(100);
  });

  test("bytes that are not TLS on an implicit-TLS port close the connection; the count goes back", async () => {
    const { hooked } = await hookedTls();
    const own = createListenerSet({ address: "127.0.0.1", portOffset: 0, maxPerIp: 10, log, tls: hooked });
    let sessions = 0;
    const l = await own.listen({ name: "n5", port: 0, mode: "implicit-tls", onConnection: () => void sessions++ });
    const s = net.connect(l.port, "127.0.0.1");
    s.on("error", () => {});
    const closed = new Promise((r) => s.once("close", r));
    s.write("EHLO not tls\r\n\r\n");
    await closed;
    for (let i = 0; i < 40 && own.stats.open > 0; i++) await Bun.sleep(25);
    expect(own.stats.open).toBe(0);
    expect(sessions).toBe(0);
    await own.shutdown(100);
  });

  test("a hook that fails for a name fails that handshake only", async () => {
    const { hooked } = await hookedTls();
    const failing: Tls = {
      ...hooked,
      certificateFor: async (name) => {
        if (name === "bad.test") throw new Error("no certificate for bad.test");
        return hooked.certificateFor(name);
      },
    };
    const own = createListenerSet({ address: "127.0.0.1", portOffset: 0, maxPerIp: 10, log, tls: failing });
    const l = await own.listen({ name: "n4", port: 0, mode: "implicit-tls", onConnection: echo });
    const c = tls.connect({ port: l.port, host: "127.0.0.1", rejectUnauthorized: false, servername: "bad.test" });
    const err = await new Promise<Error | null>((res) => {
      c.once("error", res);
      c.once("secureConnect", () => res(null));
    });
    expect(err).toBeInstanceOf(Error);
    c.destroy();
    expect(await cnOf(l.port, "a.test")).toBe("a.test");
    for (let i = 0; i < 40 && own.stats.open > 0; i++) await Bun.sleep(25);
    expect(own.stats.open).toBe(0);
    await own.shutdown(100);
  });
});
