// Issue 11 item 6, each detail as a client would send it on the wire (raw sockets, and
// Python's poplib where a real client shows the behaviour).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import * as net from "node:net";
import imap from "../../plugins/imap/index.ts";
import pop3 from "../../plugins/pop3/index.ts";
import smtp from "../../plugins/smtp/index.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import { RawClient } from "../helpers/imap.ts";
import { deliver } from "../helpers/pop3.ts";
import { mailbox, raw } from "../helpers/smtp.ts";

const ALICE = { address: "alice@example.test", password: "alice-pw" };
const POSTMASTER = { address: "postmaster@example.test", password: "pm-pw" };
let s: TestServer;

beforeAll(async () => {
  s = await startTestServer({ plugins: [smtp, imap, pop3], users: [ALICE, POSTMASTER], config: { pop3: { authFailureDelayMs: 0 } } });
});
afterAll(async () => {
  await s?.cleanup();
});

/** MAIL/RCPT/DATA over a raw socket; the replies to the dot (or to each line). */
async function smtpSession(lines: string, n: number): Promise<string[]> {
  const c = await raw(s.port("smtp"));
  await c.replies(1);
  c.send(lines);
  const r = await c.replies(n);
  c.send("QUIT\r\n");
  return r;
}

describe("SMTP", () => {
  test("NUL bytes in DATA are refused (554 5.6.0), nothing is stored", async () => {
    const c2 = await smtpSession(`EHLO c.test\r\nMAIL FROM:<x@remote.test>\r\nRCPT TO:<alice@example.test>\r\nDATA\r\nSubject: nul-test\r\n\r\nbefore\0after\r\n.\r\n`, 5);
    expect(c2.at(-1)).toMatch(/^554 5\.6\.0 .*NUL/);
    expect((await mailbox(s, ALICE.address)).some((m) => m.includes("nul-test"))).toBe(false);
  });

  test("NUL bytes in BDAT are refused too", async () => {
    const body = "Subject: nul-bdat\r\n\r\nx\0y\r\n";
    const r = await smtpSession(`EHLO c.test\r\nMAIL FROM:<x@remote.test>\r\nRCPT TO:<alice@example.test>\r\nBDAT ${body.length} LAST\r\n${body}`, 4);
    expect(r.at(-1)).toMatch(/^554 5\.6\.0 .*NUL/);
  });

  test("RCPT TO:<postmaster> without a domain is accepted (RFC 5321 §4.5.1) and delivered", async () => {
    const r = await smtpSession("EHLO c.test\r\nMAIL FROM:<x@remote.test>\r\nRCPT TO:<postmaster>\r\nDATA\r\nSubject: to-postmaster\r\n\r\nhi\r\n.\r\n", 5);
    expect(r[2]).toStartWith("250 ");
    expect(r.at(-1)).toStartWith("250 ");
    expect((await mailbox(s, POSTMASTER.address)).some((m) => m.includes("to-postmaster"))).toBe(true);
  });

  test("BDAT 0 LAST with no data is refused, no empty message is stored", async () => {
    const before = (await mailbox(s, ALICE.address)).length;
    const r = await smtpSession("EHLO c.test\r\nMAIL FROM:<x@remote.test>\r\nRCPT TO:<alice@example.test>\r\nBDAT 0 LAST\r\n", 4);
    expect(r.at(-1)).toMatch(/^554 5\.6\.0 .*empty/i);
    expect((await mailbox(s, ALICE.address)).length).toBe(before);
  });
});

describe("IMAP", () => {
  test("a UID above 4294967295 in a set is BAD", async () => {
    await deliver(s, ALICE.address, "Subject: one\r\n\r\nx\r\n");
    const c = await RawClient.connect(s.port("imap"));
    c.write(`a LOGIN ${ALICE.address} ${ALICE.password}\r\nb SELECT INBOX\r\n`);
    await c.readUntil(/^b OK .*\r\n/m);
    c.write("c UID FETCH 1:4294967296 (FLAGS)\r\n");
    expect(await c.readUntil(/^c .*\r\n/m)).toMatch(/^c BAD /m);
    c.write("d FETCH 4294967296 (FLAGS)\r\n");
    expect(await c.readUntil(/^d .*\r\n/m)).toMatch(/^d BAD /m);
    c.write("e UID FETCH 1:4294967295 (FLAGS)\r\n");
    expect(await c.readUntil(/^e .*\r\n/m)).toMatch(/^e OK /m);
    c.write("z LOGOUT\r\n");
  });
});

describe("POP3", () => {
  /** A raw POP3 session; `say` returns the next reply (multi-line up to the dot). */
  async function pop(): Promise<{ say(line: string, multi?: boolean): Promise<string>; sock: net.Socket }> {
    const sock = net.connect(s.port("pop3"), "127.0.0.1");
    let buf = "";
    sock.setEncoding("latin1");
    sock.on("data", (d: string) => (buf += d));
    const next = async (multi: boolean) => {
      const end = Date.now() + 5000;
      for (;;) {
        const i = buf.indexOf("\r\n");
        if (i >= 0 && (!multi || !buf.startsWith("+OK") || buf.includes("\r\n.\r\n"))) {
          const stop = multi && buf.startsWith("+OK") ? buf.indexOf("\r\n.\r\n") + 5 : i + 2;
          const out = buf.slice(0, stop);
          buf = buf.slice(stop);
          return out;
        }
        if (Date.now() > end) throw new Error(`timeout; buffer ${JSON.stringify(buf)}`);
        await Bun.sleep(10);
      }
    };
    await next(false);
    return {
      sock,
      async say(line, multi = false) {
        sock.write(`${line}\r\n`);
        return next(multi);
      },
    };
  }

  test("TOP with a line count beyond the 32-bit range is refused; TOP n 0 gives the header", async () => {
    const p = await pop();
    await p.say(`USER ${ALICE.address}`);
    expect(await p.say(`PASS ${ALICE.password}`)).toStartWith("+OK");
    expect(await p.say("TOP 1 4294967295", true)).toStartWith("-ERR");
    expect(await p.say("TOP 1 0", true)).toMatch(/^\+OK[^]*Subject: [^]*\r\n\r\n\.\r\n$/);
    await p.say("QUIT");
  });

  test("the maildrop lock is released as soon as the session ends (dropped without QUIT)", async () => {
    const a = await pop();
    await a.say(`USER ${ALICE.address}`);
    expect(await a.say(`PASS ${ALICE.password}`)).toStartWith("+OK");
    a.sock.destroy();
    await Bun.sleep(100);
    const b = await pop();
    await b.say(`USER ${ALICE.address}`);
    expect(await b.say(`PASS ${ALICE.password}`)).toStartWith("+OK");
    await b.say("QUIT");
  });
});

describe("shutdown", () => {
  test("a DATA transfer completing inside the grace period gets its 250, then 421; idle sessions do not hold the stop", async () => {
    const srv = await startTestServer({ plugins: [smtp, imap, pop3], users: [ALICE], config: { listen: { shutdownGraceSeconds: 10 }, pop3: { authFailureDelayMs: 0 } } });
    try {
      // Idle sessions: SMTP after EHLO, IMAP with a mailbox selected, POP3 logged in.
      const idleSmtp = await raw(srv.port("smtp"));
      await idleSmtp.replies(1);
      idleSmtp.send("EHLO idle.test\r\n");
      await idleSmtp.replies(1);
      const idleImap = await RawClient.connect(srv.port("imap"));
      idleImap.write(`a LOGIN ${ALICE.address} ${ALICE.password}\r\nb SELECT INBOX\r\n`);
      await idleImap.readUntil(/^b OK .*\r\n/m);
      const idlePop = await raw(srv.port("pop3"));
      idlePop.send(`USER ${ALICE.address}\r\nPASS ${ALICE.password}\r\n`);
      const popEnd = Date.now() + 5000;
      while (!/\+OK .*\r\n\+OK /s.test(idlePop.received) && Date.now() < popEnd) await Bun.sleep(20);

      // A message half sent when the server is told to stop.
      const c = await raw(srv.port("smtp"));
      await c.replies(1);
      c.send("EHLO c.test\r\nMAIL FROM:<x@remote.test>\r\nRCPT TO:<alice@example.test>\r\nDATA\r\n");
      expect((await c.replies(4)).at(-1)).toStartWith("354");
      c.send("Subject: in-grace\r\n\r\nfirst half\r\n");
      await Bun.sleep(100);
      const t0 = performance.now();
      const stopped = srv.stop().then(() => performance.now() - t0);
      await Bun.sleep(300);
      c.send("second half\r\n.\r\n");
      const r = await c.replies(2);
      expect(r[0]).toMatch(/^250 2\.0\.0 OK queued as /);
      expect(r[1]).toBe("421 4.3.2 Server shutting down, closing connection");
      const ms = await stopped;
      console.log(`stop with a DATA in flight and 3 idle sessions: ${ms.toFixed(0)} ms (grace 10000 ms)`);
      expect(ms).toBeLessThan(5000);
      expect(idleSmtp.received).toContain("421 4.3.2");
      expect(idlePop.received).toContain("-ERR [SYS/TEMP] Server shutting down");
    } finally {
      await srv.cleanup();
    }
  }, 30_000);
});

describe("IMAP APPEND", () => {
  test("a NUL inside a plain literal is BAD (RFC 9051 §4.3); nothing is stored", async () => {
    const c = await RawClient.connect(s.port("imap"));
    c.write(`a LOGIN ${ALICE.address} ${ALICE.password}\r\n`);
    await c.readUntil(/^a OK .*\r\n/m);
    const msg = "Subject: nul-append\r\n\r\na\0b\r\n";
    c.write(`b APPEND INBOX {${msg.length}+}\r\n${msg}\r\n`);
    expect(await c.readUntil(/^b .*\r\n/m)).toMatch(/^b BAD .*NUL/m);
    expect((await mailbox(s, ALICE.address)).some((m) => m.includes("nul-append"))).toBe(false);
    c.write("z LOGOUT\r\n");
  });
});
