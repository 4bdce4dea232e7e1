// Hostile and careless clients: bad syntax, oversized literals, too many errors, passwords
// without TLS, STARTTLS, implicit TLS, shutdown.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import * as net from "node:net";
import * as tls from "node:tls";
import type { TestServer } from "../helpers/server.ts";
import { RawClient, startImap, USERS } from "../helpers/imap.ts";

let srv: TestServer;
let strict: TestServer;
beforeAll(async () => {
  [srv, strict] = await Promise.all([
    startImap({ limits: { maxMessageSize: 4096 } }),
    // No plaintext passwords even on loopback: the production default.
    startImap({ auth: { allowPlaintextOnLoopback: false } }),
  ]);
});
afterAll(async () => {
  await Promise.all([srv.cleanup(), strict.cleanup()]);
});

const login = `LOGIN ${USERS[0]!.address} ${USERS[0]!.password}`;

describe("syntax and limits", () => {
  test("bad syntax and unknown commands get BAD; the session goes on", async () => {
    const c = await RawClient.connect(srv.port("imap"));
    expect(await c.cmd("FROB")).toMatch(/^t1 BAD /m);
    expect(await c.cmd('LOGIN "unterminated')).toMatch(/^t2 BAD /m);
    expect(await c.cmd("SELECT INBOX")).toMatch(/^t3 BAD /m); // not authenticated yet
    c.write("\r\n");
    expect(await c.readUntil(/\* BAD .*\r\n/)).toContain("BAD");
    expect(await c.cmd(login)).toMatch(/^t4 OK /m);
    expect(await c.cmd("FETCH 1 FLAGS")).toMatch(/^t5 BAD /m); // nothing selected
    expect(await c.cmd("SELECT INBOX (FROB)")).toMatch(/^t6 BAD /m);
    expect(await c.cmd("NOOP")).toMatch(/^t7 OK /m);
    c.close();
  });

  test("an APPEND over APPENDLIMIT is refused before the literal is sent", async () => {
    const c = await RawClient.connect(srv.port("imap"));
    await c.cmd(login);
    const caps = await c.cmd("CAPABILITY");
    expect(caps).toContain("APPENDLIMIT=4096");
    const r = await c.cmd("APPEND INBOX {5000}");
    expect(r).toMatch(/^t3 NO \[TOOBIG\]/m);
    expect(r).not.toContain("+ ");
    // Still in sync: a normal APPEND works.
    const m = "Subject: small\r\n\r\nok\r\n";
    c.write(`t9 APPEND INBOX {${m.length}}\r\n`);
    await c.readUntil(/^\+ .*\r\n/m);
    c.write(m + "\r\n");
    expect(await c.readUntil(/^t9 .*\r\n/m)).toContain("t9 OK [APPENDUID");
    // A non-synchronizing literal over the limit cannot be skipped safely: BYE.
    c.write("t10 APPEND INBOX {99999+}\r\n");
    expect(await c.readUntil(/\* BYE .*\r\n/)).toContain("BYE");
    c.close();
  });

  test("a line without end is not buffered forever", async () => {
    const c = await RawClient.connect(srv.port("imap"));
    c.write("a1 LOGIN " + "x".repeat(200_000));
    expect(await c.readUntil(/\* BYE .*\r\n/)).toContain("BYE");
    c.close();
  });

  test("too many bad commands end the session", async () => {
    const c = await RawClient.connect(srv.port("imap"));
    for (let i = 0; i < 25; i++) c.write(`x${i} FROB\r\n`);
    expect(await c.readUntil(/\* BYE .*\r\n/)).toContain("Too many invalid commands");
    c.close();
  });

  test("failed logins: NO, then BYE after a few", async () => {
    const c = await RawClient.connect(srv.port("imap"));
    expect(await c.cmd("LOGIN alice@example.test nope")).toMatch(/t1 NO \[AUTHENTICATIONFAILED\]/);
    expect(await c.cmd("AUTHENTICATE PLAIN " + Buffer.from("\0alice@example.test\0nope2").toString("base64"))).toMatch(/t2 NO /);
    c.write("t3 LOGIN alice@example.test nope3\r\n");
    expect(await c.readUntil(/\* BYE .*\r\n/)).toContain("BYE");
    c.close();
  });

  test("AUTHENTICATE without initial response, and cancel", async () => {
    const c = await RawClient.connect(srv.port("imap"));
    c.write("a1 AUTHENTICATE PLAIN\r\n");
    await c.readUntil(/^\+ \r\n/m);
    c.write("*\r\n");
    expect(await c.readUntil(/^a1 .*\r\n/m)).toContain("a1 BAD");
    c.write("a2 AUTHENTICATE PLAIN\r\n");
    await c.readUntil(/^\+ \r\n/m);
    c.write(Buffer.from(`\0${USERS[0]!.address}\0${USERS[0]!.password}`).toString("base64") + "\r\n");
    expect(await c.readUntil(/^a2 .*\r\n/m)).toContain("a2 OK [CAPABILITY");
    c.close();
  });
});

describe("TLS", () => {
  test("no password before TLS: LOGINDISABLED, PRIVACYREQUIRED; STARTTLS then LOGIN", async () => {
    const c = await RawClient.connect(strict.port("imap"));
    const caps = await c.cmd("CAPABILITY");
    expect(caps).toContain("LOGINDISABLED");
    expect(caps).toContain("STARTTLS");
    expect(caps).not.toContain("AUTH=PLAIN");
    expect(await c.cmd(login)).toMatch(/t2 NO \[PRIVACYREQUIRED\]/);
    expect(await c.cmd("AUTHENTICATE PLAIN AGFAYg==")).toMatch(/t3 NO \[PRIVACYREQUIRED\]/);
    c.close();

    // STARTTLS with node's TLS client over the same socket.
    const sock = net.connect(strict.port("imap"), "127.0.0.1");
    const lines = await readLines(sock, 1);
    expect(lines[0]).toStartWith("* OK");
    sock.write("s1 STARTTLS\r\n");
    expect((await readLines(sock, 1))[0]).toStartWith("s1 OK");
    const t = tls.connect({ socket: sock, rejectUnauthorized: false });
    await new Promise<void>((res, rej) => t.once("secureConnect", res).once("error", rej));
    t.write("s2 CAPABILITY\r\n");
    const after = await readLines(t, 2);
    expect(after[0]).toContain("AUTH=PLAIN");
    expect(after[0]).not.toContain("STARTTLS");
    t.write(`s3 ${login}\r\n`);
    expect((await readLines(t, 1))[0]).toStartWith("s3 OK");
    t.destroy();
  });

  test("implicit TLS on imaps", async () => {
    // servername: the core's implicit-TLS listener needs SNI to pick a certificate (reported).
    const t = tls.connect({ port: strict.port("imaps"), host: "127.0.0.1", servername: "mx.example.test", rejectUnauthorized: false });
    await new Promise<void>((res, rej) => t.once("secureConnect", res).once("error", rej));
    const greet = await readLines(t, 1);
    expect(greet[0]).toStartWith("* OK [CAPABILITY");
    expect(greet[0]).not.toContain("STARTTLS");
    t.write(`a ${login}\r\n`);
    expect((await readLines(t, 1))[0]).toStartWith("a OK");
    t.destroy();
  });
});

test("shutdown says BYE", async () => {
  const own = await startImap();
  const c = await RawClient.connect(own.port("imap"));
  await c.cmd(login);
  const stopping = own.cleanup();
  expect(await c.readUntil(/\* BYE .*\r\n/)).toContain("BYE");
  await stopping;
  c.close();
});

/** Reads n CRLF lines from a socket (test helper for TLS sockets). */
function readLines(sock: net.Socket | tls.TLSSocket, n: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    let buf = "";
    const onData = (d: Buffer) => {
      buf += d.toString("latin1");
      const lines = buf.split("\r\n");
      if (lines.length > n) {
        sock.off("data", onData);
        resolve(lines.slice(0, n));
      }
    };
    sock.on("data", onData);
    sock.once("error", reject);
  });
}

test("before login, literals are small whatever the command", async () => {
  const c = await RawClient.connect(strict.port("imap")); // APPENDLIMIT 50 MB there
  expect(await c.cmd("APPEND INBOX {100000}")).toMatch(/^t1 NO \[TOOBIG\]/m);
  expect(await c.cmd("LOGIN {9000}")).toMatch(/^t2 BAD /m);
  c.close();
});

test("nothing after LOGOUT is executed; a command right after STARTTLS is", async () => {
  const c = await RawClient.connect(srv.port("imap"));
  c.write(`a1 ${login}\r\na2 LOGOUT\r\na3 CREATE AfterLogout\r\n`);
  const out = await c.readUntil(/^a2 OK .*\r\n/m);
  expect(out).toContain("* BYE");
  await Bun.sleep(50);
  c.close();
  const d = await RawClient.connect(srv.port("imap"));
  await d.cmd(login);
  expect(await d.cmd('LIST "" AfterLogout')).not.toMatch(/\* LIST/);
  d.close();

  const sock = net.connect(strict.port("imap"), "127.0.0.1");
  await readLines(sock, 1);
  sock.write("s1 STARTTLS\r\n");
  await readLines(sock, 1);
  const t = tls.connect({ socket: sock, rejectUnauthorized: false });
  await new Promise<void>((res, rej) => t.once("secureConnect", res).once("error", rej));
  t.write("s2 NOOP\r\n"); // at once, while the server may still be finishing the handshake
  expect((await readLines(t, 1))[0]).toStartWith("s2 OK");
  t.destroy();
});

test("failed logins are rate limited per IP across connections", async () => {
  const own = await startImap({ auth: { maxFailuresPerIp: 2 } });
  try {
    for (let i = 0; i < 2; i++) {
      const c = await RawClient.connect(own.port("imap"));
      expect(await c.cmd(`LOGIN ${USERS[0]!.address} wrong${i}`)).toMatch(/NO \[AUTHENTICATIONFAILED\]/);
      c.close();
    }
    const c = await RawClient.connect(own.port("imap"));
    // Even the right password is refused for now: a temporary failure.
    expect(await c.cmd(login)).toMatch(/NO \[UNAVAILABLE\]/);
    c.close();
  } finally {
    await own.cleanup();
  }
});

test("a silent connection is logged out (BYE) when its idle timer runs out", async () => {
  const own = await startImap({ imap: { preAuthTimeoutSeconds: 1 } });
  try {
    const c = await RawClient.connect(own.port("imap"));
    expect(await c.readUntil(/\* BYE .*\r\n/)).toContain("Autologout");
    c.close();
  } finally {
    await own.cleanup();
  }
});

test("random garbage never takes the server down", async () => {
  // Deterministic pseudo-random input built from IMAP's special characters.
  let seed = 42;
  const rnd = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const alphabet = ["(", ")", "{", "}", '"', "\\", "[", "]", "<", ">", " ", "*", "%", "\r\n", "1", "5+", "~", "UID", "FETCH", "NIL", "\x00", "é", "a1"];
  for (let round = 0; round < 5; round++) {
    const c = await RawClient.connect(srv.port("imap"));
    if (round % 2) await c.cmd(login);
    let junk = "";
    for (let i = 0; i < 3000; i++) junk += alphabet[Math.floor(rnd() * alphabet.length)];
    c.write(junk + "\r\n");
    await Bun.sleep(50);
    c.close();
  }
  const c = await RawClient.connect(srv.port("imap"));
  expect(await c.cmd(login)).toMatch(/OK/);
  expect(await c.cmd("SELECT INBOX")).toMatch(/OK/);
  c.close();
});
