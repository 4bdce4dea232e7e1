// The session state machine against an in-memory connection, the real hook pipeline and
// fake store/spool (the e2e tests in tests/smtp/ use real clients and the real core).
import { describe, expect, test } from "bun:test";
import { createHooks } from "../../core/hooks.ts";
import { createLogger } from "../../core/log.ts";
import type { AcceptedMessage } from "../../core/spool/types.ts";
import type { Connection, ConnState, Hooks, TlsInfo } from "../../core/types.ts";
import { startSession, type SessionConfig, type SmtpService } from "./session.ts";

const log = createLogger("error", {}, () => {});

class FakeConn implements Connection {
  readonly id = "c1";
  readonly remoteAddress: string;
  readonly remotePort = 40000;
  readonly localAddress = "127.0.0.1";
  readonly localPort = 25;
  readonly isLoopback: boolean;
  secure = false;
  allowLoopback = false;
  get plaintextLoginAllowed() {
    return this.secure || (this.isLoopback && this.allowLoopback);
  }
  tls?: TlsInfo;
  readonly log = log;
  readonly state: ConnState = {};
  readonly ac = new AbortController();
  readonly closing = this.ac.signal;
  out = "";
  closed = false;
  private dataCb: ((c: Buffer) => void)[] = [];
  private closeCb: (() => void)[] = [];
  private waiters: (() => void)[] = [];
  constructor(
    readonly service: string,
    ip = "192.0.2.9",
  ) {
    this.remoteAddress = ip;
    this.isLoopback = ip.startsWith("127.");
  }
  onData(cb: (c: Buffer) => void) {
    this.dataCb.push(cb);
  }
  onClose(cb: () => void) {
    this.closeCb.push(cb);
  }
  write(d: string | Uint8Array) {
    this.out += typeof d === "string" ? d : Buffer.from(d).toString("latin1");
    for (const w of this.waiters.splice(0)) w();
  }
  drain() {
    return Promise.resolve();
  }
  pause() {}
  resume() {}
  async upgradeTls() {
    this.secure = true;
    this.tls = { protocol: "TLSv1.3", cipher: "TLS_AES_128_GCM_SHA256" };
  }
  setIdleTimeout() {}
  close() {
    this.closed = true;
    for (const cb of this.closeCb.splice(0)) cb();
    for (const w of this.waiters.splice(0)) w();
  }
  destroy() {
    this.close();
  }
  send(s: string | Buffer) {
    for (const cb of this.dataCb) cb(typeof s === "string" ? Buffer.from(s) : s);
  }
  /** Wait until the output holds `n` complete final reply lines (no "-" continuation). */
  async replies(n: number): Promise<string[]> {
    for (;;) {
      const finals = this.out.split("\r\n").filter((l) => /^\d{3} /.test(l));
      if (finals.length >= n || this.closed) return finals;
      await new Promise<void>((res) => {
        this.waiters.push(res);
        setTimeout(res, 200);
      });
    }
  }
  take(): string {
    const o = this.out;
    this.out = "";
    return o;
  }
}

interface Setup {
  conn: FakeConn;
  hooks: Hooks;
  accepted: AcceptedMessage[];
  spoolGate?: Promise<void>;
}

function setup(
  service: SmtpService = "smtp",
  opts: { ip?: string; allowLoopback?: boolean; cfg?: Partial<SessionConfig>; spool?: (m: AcceptedMessage) => Promise<{ id: string }>; hooks?: (h: Hooks) => void } = {},
): Setup {
  const conn = new FakeConn(service, opts.ip);
  conn.allowLoopback = opts.allowLoopback ?? false;
  const hooks = createHooks(log);
  opts.hooks?.(hooks);
  const accounts: Record<string, number> = { "alice@example.test": 1, "bob@example.test": 2 };
  hooks.on(
    "route",
    (_t, rcpt) => {
      if (rcpt.domain !== "example.test") return { kind: "route", local: [], remote: [{ address: rcpt.address }] };
      const id = accounts[`${rcpt.local.toLowerCase()}@${rcpt.domain}`];
      return id ? { kind: "route", local: [{ accountId: id, mailbox: "INBOX" }], remote: [] } : { kind: "reject", reply: { code: 550, enhanced: "5.1.1", text: "No such user here" } };
    },
    { last: true },
  );
  hooks.on("smtp.sendas", (user, address) => (address.toLowerCase() === user.address ? { kind: "accept" } : { kind: "pass" }), { last: true });
  hooks.on("auth", (_c, cred) =>
    cred.username === "alice@example.test" && cred.password === "secret"
      ? { kind: "user", user: { accountId: 1, address: "alice@example.test" } }
      : { kind: "reject", reply: { code: 535, enhanced: "5.7.8", text: "Authentication credentials invalid" } },
  );
  const accepted: AcceptedMessage[] = [];
  const cfg: SessionConfig = {
    service,
    hostname: "mx.example.test",
    maxMessageSize: 100_000,
    maxRecipients: 5,
    headerLimits: { maxSection: 1024 * 1024, maxField: 64 * 1024 },
    maxErrors: 10,
    maxCommandsWithoutMail: 30,
    maxAuthFailures: 3,
    maxDataLine: 1000,
    idleMs: 0,
    ...opts.cfg,
  };
  startSession(
    conn,
    {
      hooks,
      store: { isLocalDomain: async (d) => d === "example.test", listDomains: async () => [{ id: 1, name: "example.test", createdAt: 0 }], onAccountGone: () => () => {} },
      spool: {
        accept:
          opts.spool ??
          (async (m) => {
            accepted.push(m);
            return { id: `m${accepted.length}` };
          }),
      },
    },
    cfg,
  );
  return { conn, hooks, accepted };
}

/** Send lines and return the new final reply lines. */
async function say(c: FakeConn, text: string, n = 1): Promise<string[]> {
  const before = c.out.split("\r\n").filter((l) => /^\d{3} /.test(l)).length;
  c.send(text);
  return (await c.replies(before + n)).slice(before);
}

const MSG = "From: a@remote.test\r\nTo: alice@example.test\r\nSubject: hello\r\n\r\nHi.\r\n";
const b64 = (s: string) => Buffer.from(s).toString("base64");

describe("port 25", () => {
  test("greeting and EHLO: STARTTLS offered, no AUTH, extensions listed", async () => {
    const { conn } = setup();
    expect(await conn.replies(1)).toEqual(["220 mx.example.test ESMTP kotakpos"]);
    conn.take();
    await say(conn, "EHLO client.test\r\n");
    const ehlo = conn.take();
    for (const ext of ["PIPELINING", "SIZE 100000", "8BITMIME", "SMTPUTF8", "ENHANCEDSTATUSCODES", "STARTTLS", "CHUNKING", "DSN"])
      expect(ehlo).toContain(`250-${ext}\r\n`.replace("250-DSN", "250 DSN"));
    expect(ehlo).not.toContain("AUTH");
  });

  test("a pipelined transaction reaches the spool with our Received header", async () => {
    const { conn, accepted } = setup();
    await conn.replies(1);
    const r = await say(conn, `EHLO c.test\r\nMAIL FROM:<a@remote.test> SIZE=100 BODY=8BITMIME\r\nRCPT TO:<alice@example.test>\r\nRCPT TO:<BOB@Example.Test> NOTIFY=NEVER\r\nDATA\r\n`, 5);
    expect(r.slice(1)).toEqual(["250 2.1.0 Sender OK", "250 2.1.5 Recipient OK", "250 2.1.5 Recipient OK", "354 End data with <CR><LF>.<CR><LF>"]);
    expect(await say(conn, `${MSG}.\r\n`)).toEqual(["250 2.0.0 OK queued as m1"]);
    expect(accepted).toHaveLength(1);
    const m = accepted[0]!;
    expect(Buffer.from(m.raw).toString()).toBe(MSG);
    expect(m.mailFrom).toBe("a@remote.test");
    expect(m.local).toEqual([
      { accountId: 1, mailbox: "INBOX" },
      { accountId: 2, mailbox: "INBOX" },
    ]);
    expect(m.remote).toEqual([]);
    expect(m.prefix).toHaveLength(2);
    expect(m.prefix[0]).toBe("Return-Path: <a@remote.test>\r\n");
    expect(m.prefix[1]).toMatch(/^Received: from c\.test \(\[192\.0\.2\.9\]\)\r\n\tby mx\.example\.test \(kotakpos\) with ESMTP id \w+;\r\n\t\w{3}, /);
  });

  test("the 250 waits for the spool commit; a failed commit is 451 and nothing is acknowledged", async () => {
    let release!: () => void;
    let fail = false;
    const gate = new Promise<void>((r) => (release = r));
    const { conn } = setup("smtp", {
      spool: async () => {
        await gate;
        if (fail) throw new Error("disk full");
        return { id: "m1" };
      },
    });
    await conn.replies(1);
    await say(conn, "EHLO c\r\nMAIL FROM:<>\r\nRCPT TO:<alice@example.test>\r\nDATA\r\n", 4);
    conn.take();
    conn.send(`${MSG}.\r\n`);
    await Bun.sleep(20);
    expect(conn.out).toBe(""); // nothing said before the commit
    fail = true;
    release();
    expect(await conn.replies(1)).toEqual(["451 4.3.0 Temporary failure, please try again later"]);
  });

  test("relay denied for a remote recipient without AUTH; unknown local user 550 5.1.1", async () => {
    const { conn } = setup();
    await conn.replies(1);
    const r = await say(conn, "EHLO c\r\nMAIL FROM:<a@remote.test>\r\nRCPT TO:<x@elsewhere.test>\r\nRCPT TO:<nobody@example.test>\r\nDATA\r\n", 5);
    expect(r.slice(2)).toEqual(["554 5.7.1 Relay access denied", "550 5.1.1 No such user here", "554 5.5.1 No valid recipients"]);
  });

  test("a route handler's defer becomes a 4xx for that recipient", async () => {
    const { conn } = setup("smtp", { hooks: (h) => h.on("route", () => ({ kind: "defer", reply: { code: 451, enhanced: "4.4.3", text: "Directory unavailable" } })) });
    await conn.replies(1);
    const r = await say(conn, "EHLO c\r\nMAIL FROM:<a@b.c>\r\nRCPT TO:<alice@example.test>\r\n", 3);
    expect(r[2]).toBe("451 4.4.3 Directory unavailable");
  });

  test("AUTH is not available on port 25", async () => {
    const { conn } = setup("smtp", { ip: "127.0.0.1", allowLoopback: true });
    await conn.replies(1);
    expect((await say(conn, "EHLO c\r\nAUTH PLAIN AGFsaWNlAHNlY3JldA==\r\n", 2))[1]).toBe("502 5.5.1 AUTH not available on this port");
  });

  test("sequence errors and syntax errors", async () => {
    const { conn } = setup();
    await conn.replies(1);
    expect(await say(conn, "MAIL FROM:<a@b.c>\r\n")).toEqual(["503 5.5.1 Send EHLO or HELO first"]);
    expect(await say(conn, "HELO c\r\nRCPT TO:<alice@example.test>\r\n", 2)).toEqual(["250 mx.example.test Hello c", "503 5.5.1 Need MAIL command first"]);
    expect(await say(conn, "MAIL FROM:<a@b.c> SIZE=10\r\n")).toEqual(["555 5.5.4 Parameters require EHLO"]);
    expect(await say(conn, "EHLO c\r\nMAIL FROM:<a@b.c>\r\nMAIL FROM:<a@b.c>\r\n", 3)).toEqual(expect.arrayContaining(["503 5.5.1 Nested MAIL command"]));
    expect(await say(conn, "FOO\r\n")).toEqual(["500 5.5.2 Command not recognized"]);
    expect(await say(conn, "VRFY alice\r\nEXPN staff\r\nNOOP\r\nRSET\r\n", 4)).toEqual([
      "252 2.5.0 Cannot VRFY user, but will accept the message and attempt delivery",
      "502 5.5.1 EXPN not available",
      "250 2.0.0 OK",
      "250 2.0.0 OK",
    ]);
    expect(await say(conn, "QUIT\r\n")).toEqual(["221 2.0.0 Bye"]);
    expect(conn.closed).toBe(true);
  });

  test("SIZE over the limit at MAIL and while receiving: 552", async () => {
    const { conn, accepted } = setup("smtp", { cfg: { maxMessageSize: 2000 } });
    await conn.replies(1);
    expect((await say(conn, "EHLO c\r\nMAIL FROM:<a@b.c> SIZE=5000\r\n", 2))[1]).toBe("552 5.3.4 Message size exceeds fixed maximum message size");
    await say(conn, "MAIL FROM:<a@b.c>\r\nRCPT TO:<alice@example.test>\r\nDATA\r\n", 3);
    expect(await say(conn, `${"x".repeat(100)}\r\n`.repeat(30) + ".\r\n")).toEqual(["552 5.3.4 Message size exceeds fixed maximum message size"]);
    expect(accepted).toHaveLength(0);
    expect(await say(conn, "NOOP\r\n")).toEqual(["250 2.0.0 OK"]);
  });

  test("bare LF in DATA is refused and the connection closed; nothing stored", async () => {
    const { conn, accepted } = setup();
    await conn.replies(1);
    await say(conn, "EHLO c\r\nMAIL FROM:<a@b.c>\r\nRCPT TO:<alice@example.test>\r\nDATA\r\n", 4);
    const r = await say(conn, "Subject: x\r\n\r\nhello\n.\nMAIL FROM:<evil@b.c>\r\nRCPT TO:<bob@example.test>\r\nDATA\r\nsmuggled\r\n.\r\n");
    expect(r).toEqual(["554 5.5.2 Bare LF or CR in message data is not allowed (RFC 5321 section 2.3.8); closing"]);
    expect(conn.closed).toBe(true);
    expect(accepted).toHaveLength(0);
  });

  test("too many recipients: 452 4.5.3", async () => {
    const { conn } = setup("smtp", { cfg: { maxRecipients: 2 } });
    await conn.replies(1);
    const r = await say(conn, "EHLO c\r\nMAIL FROM:<a@b.c>\r\nRCPT TO:<alice@example.test>\r\nRCPT TO:<bob@example.test>\r\nRCPT TO:<alice@example.test>\r\n", 5);
    expect(r.at(-1)).toBe("452 4.5.3 Too many recipients");
  });

  test("UTF-8 addresses need SMTPUTF8", async () => {
    const { conn } = setup();
    await conn.replies(1);
    const r = await say(conn, "EHLO c\r\nMAIL FROM:<jürgen@bücher.test>\r\nMAIL FROM:<jürgen@bücher.test> SMTPUTF8\r\n", 3);
    expect(r.slice(1)).toEqual(["553 5.6.7 Non-ASCII address requires SMTPUTF8", "250 2.1.0 Sender OK"]);
  });

  test("too many errors: 421 and close", async () => {
    const { conn } = setup();
    await conn.replies(1);
    const r = await say(conn, "BAD\r\n".repeat(12), 11);
    expect(r.at(-1)).toBe("421 4.7.0 Too many errors, closing connection");
    expect(conn.closed).toBe(true);
  });

  test("too many commands without MAIL: 421", async () => {
    const { conn } = setup("smtp", { cfg: { maxCommandsWithoutMail: 5 } });
    await conn.replies(1);
    const r = await say(conn, "NOOP\r\n".repeat(6), 6);
    expect(r.at(-1)).toBe("421 4.7.0 Too many commands without a message, closing connection");
  });

  test("an HTTP request is answered and closed", async () => {
    const { conn } = setup();
    await conn.replies(1);
    expect(await say(conn, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")).toEqual(["554 5.7.0 This is an SMTP server, not an HTTP server; closing"]);
    expect(conn.closed).toBe(true);
  });

  test("a connect hook reject: 554 greeting, then 503 until QUIT (RFC 5321 section 3.1)", async () => {
    const { conn } = setup("smtp", { hooks: (h) => h.on("connect", () => ({ kind: "reject", reply: { code: 554, enhanced: "5.7.1", text: "Go away" } })) });
    expect(await conn.replies(1)).toEqual(["554 5.7.1 Go away"]);
    expect(await say(conn, "EHLO c\r\nQUIT\r\n", 2)).toEqual(["503 5.5.1 Session rejected; only QUIT is allowed", "221 2.0.0 Bye"]);
    expect(conn.closed).toBe(true);
  });

  test("smtp.helo, smtp.mail and smtp.rcpt verdicts become replies; disconnect closes", async () => {
    const { conn } = setup("smtp", {
      hooks: (h) => {
        h.on("smtp.helo", (_c, name) => (name === "spammer.test" ? { kind: "reject", reply: { code: 550, enhanced: "5.7.1", text: "Bad HELO" } } : { kind: "pass" }));
        h.on("smtp.mail", (_t, a) => (a.domain === "slow.test" ? { kind: "defer", reply: { code: 451, enhanced: "4.7.1", text: "Greylisted" } } : { kind: "pass" }));
        h.on("smtp.rcpt", (_t, a) => (a.local === "bob" ? { kind: "disconnect", reply: { code: 421, enhanced: "4.7.0", text: "Go away" } } : { kind: "pass" }));
      },
    });
    await conn.replies(1);
    expect(await say(conn, "EHLO spammer.test\r\nMAIL FROM:<a@b.c>\r\n", 2)).toEqual(["550 5.7.1 Bad HELO", "503 5.5.1 Send EHLO or HELO first"]);
    const r = await say(conn, "EHLO ok.test\r\nMAIL FROM:<a@slow.test>\r\nMAIL FROM:<a@b.c>\r\nRCPT TO:<alice@example.test>\r\nRCPT TO:<bob@example.test>\r\n", 5);
    expect(r.slice(1)).toEqual(["451 4.7.1 Greylisted", "250 2.1.0 Sender OK", "250 2.1.5 Recipient OK", "421 4.7.0 Go away"]);
    expect(conn.closed).toBe(true);
  });

  test("smtp.data checks: reject refuses, quarantine goes to Junk, headers on top", async () => {
    let mode: "reject" | "quarantine" = "reject";
    const { conn, accepted } = setup("smtp", {
      hooks: (h) => {
        h.on("smtp.data", () =>
          mode === "reject"
            ? { kind: "check", verdict: { kind: "reject", reply: { code: 550, enhanced: "5.7.1", text: "Spam" } } }
            : { kind: "check", verdict: { kind: "quarantine", reason: "spam" }, headers: ["X-Spam-Flag: YES"] },
        );
        h.on("smtp.data", () => ({ kind: "check", verdict: { kind: "pass" }, headers: ["Authentication-Results: mx.example.test; spf=pass"] }));
      },
    });
    await conn.replies(1);
    await say(conn, "EHLO c\r\nMAIL FROM:<a@b.c>\r\nRCPT TO:<alice@example.test>\r\nDATA\r\n", 4);
    expect(await say(conn, `${MSG}.\r\n`)).toEqual(["550 5.7.1 Spam"]);
    mode = "quarantine";
    await say(conn, "MAIL FROM:<a@b.c>\r\nRCPT TO:<alice@example.test>\r\nDATA\r\n", 3);
    expect(await say(conn, `${MSG}.\r\n`)).toEqual(["250 2.0.0 OK queued as m1"]);
    expect(accepted[0]!.local).toEqual([{ accountId: 1, mailbox: "Junk", flags: ["$Junk"] }]);
    expect(accepted[0]!.prefix[0]).toBe("Return-Path: <a@b.c>\r\n");
    expect(accepted[0]!.prefix[1]).toBe("X-Spam-Flag: YES\r\n");
    expect(accepted[0]!.prefix[2]).toBe("Authentication-Results: mx.example.test; spf=pass\r\n");
    expect(accepted[0]!.prefix[3]).toStartWith("Received: ");
  });

  test("BDAT chunks (RFC 3030), pipelined with LAST", async () => {
    const { conn, accepted } = setup();
    await conn.replies(1);
    const c1 = "Subject: chunked\r\n\r\n";
    const c2 = "line\r\n.\r\nmore\r\n";
    const r = await say(conn, `EHLO c\r\nMAIL FROM:<a@b.c>\r\nRCPT TO:<alice@example.test>\r\nBDAT ${c1.length}\r\n${c1}BDAT ${c2.length} LAST\r\n${c2}`, 5);
    expect(r.slice(3)).toEqual([`250 2.0.0 ${c1.length} octets received`, "250 2.0.0 OK queued as m1"]);
    expect(Buffer.from(accepted[0]!.raw).toString()).toBe(c1 + c2);
    // BDAT without a transaction: refused, its bytes still consumed.
    expect(await say(conn, "BDAT 5 LAST\r\nhelloNOOP\r\n", 2)).toEqual(["503 5.5.1 Need MAIL command first", "250 2.0.0 OK"]);
  });

  test("STARTTLS resets the session and discards pipelined commands", async () => {
    const { conn } = setup();
    await conn.replies(1);
    const r = await say(conn, "EHLO c\r\nSTARTTLS\r\nMAIL FROM:<a@b.c>\r\n", 2);
    expect(r[1]).toBe("220 2.0.0 Ready to start TLS");
    await Bun.sleep(5);
    expect(conn.out).not.toContain("Sender OK");
    expect(await say(conn, "MAIL FROM:<a@b.c>\r\n")).toEqual(["503 5.5.1 Send EHLO or HELO first"]);
    conn.take();
    await say(conn, "EHLO c\r\n");
    expect(conn.take()).not.toContain("STARTTLS");
    await say(conn, "MAIL FROM:<a@b.c>\r\nRCPT TO:<alice@example.test>\r\nDATA\r\n", 3);
    await say(conn, `${MSG}.\r\n`);
  });

  test("DSN parameters reach the spool", async () => {
    const { conn, accepted } = setup("submission", { ip: "127.0.0.1", allowLoopback: true });
    await conn.replies(1);
    await say(conn, `EHLO c\r\nAUTH PLAIN ${b64("\0alice@example.test\0secret")}\r\n`, 2);
    const r = await say(conn, "MAIL FROM:<alice@example.test> RET=HDRS ENVID=x+2By\r\nRCPT TO:<far@remote.test> NOTIFY=FAILURE,DELAY ORCPT=rfc822;far+40remote.test\r\nDATA\r\n", 3);
    expect(r).toEqual(["250 2.1.0 Sender OK", "250 2.1.5 Recipient OK", "354 End data with <CR><LF>.<CR><LF>"]);
    await say(conn, "Subject: x\r\n\r\nbody\r\n.\r\n");
    const m = accepted[0]!;
    expect(m.dsn).toEqual({ ret: "HDRS", envid: "x+y" });
    expect(m.remote).toEqual([{ address: "far@remote.test", dsn: { notify: ["FAILURE", "DELAY"], orcpt: "rfc822;far@remote.test" } }]);
    // Submission adds From (the authenticated user), Message-ID and Date when missing (RFC 6409 §8).
    expect(m.prefix.map((p) => p.split(":")[0])).toEqual(["Received", "From", "Message-ID", "Date"]);
    expect(m.prefix[1]).toBe("From: <alice@example.test>\r\n");
    expect(m.prefix[0]).toContain("with ESMTPA id");
  });
});

describe("submission", () => {
  test("AUTH is refused before TLS (538) and MAIL needs AUTH (530)", async () => {
    const { conn } = setup("submission");
    await conn.replies(1);
    conn.take();
    await say(conn, "EHLO c\r\n");
    expect(conn.take()).not.toContain("AUTH");
    expect(await say(conn, "AUTH PLAIN\r\nMAIL FROM:<alice@example.test>\r\n", 2)).toEqual([
      "538 5.7.11 Encryption required for requested authentication mechanism",
      "530 5.7.0 Authentication required",
    ]);
  });

  test("after STARTTLS: AUTH PLAIN with initial response, relay allowed, foreign sender refused", async () => {
    const { conn, accepted } = setup("submission");
    await conn.replies(1);
    await say(conn, "EHLO c\r\nSTARTTLS\r\n", 2);
    await Bun.sleep(5);
    conn.take();
    await say(conn, "EHLO c\r\n");
    expect(conn.take()).toContain("250-AUTH PLAIN LOGIN\r\n");
    expect(await say(conn, `AUTH PLAIN ${b64("\0alice@example.test\0secret")}\r\n`)).toEqual(["235 2.7.0 Authentication successful"]);
    expect(await say(conn, "AUTH PLAIN\r\n")).toEqual(["503 5.5.1 Already authenticated"]);
    expect(await say(conn, "MAIL FROM:<bob@example.test>\r\n")).toEqual(["550 5.7.1 Sender address not owned by the authenticated user"]);
    const r = await say(conn, "MAIL FROM:<Alice@example.test>\r\nRCPT TO:<someone@remote.test>\r\nRCPT TO:<bob@example.test>\r\nDATA\r\n", 4);
    expect(r).toEqual(["250 2.1.0 Sender OK", "250 2.1.5 Recipient OK", "250 2.1.5 Recipient OK", "354 End data with <CR><LF>.<CR><LF>"]);
    await say(conn, "From: alice@example.test\r\nMessage-ID: <x@y>\r\nDate: Sun, 22 Nov 2026 02:03:04 +0000\r\n\r\nhi\r\n.\r\n");
    expect(accepted[0]!.remote).toEqual([{ address: "someone@remote.test" }]);
    expect(accepted[0]!.local).toEqual([{ accountId: 2, mailbox: "INBOX" }]);
    expect(accepted[0]!.prefix).toHaveLength(1);
    expect(accepted[0]!.prefix[0]).toContain("with ESMTPSA id");
    expect(accepted[0]!.prefix[0]).toContain("(using TLSv1.3 with cipher TLS_AES_128_GCM_SHA256)");
  });

  test("AUTH LOGIN, cancel, bad base64, and 421 after repeated failures", async () => {
    const { conn } = setup("submission", { ip: "127.0.0.1", allowLoopback: true });
    await conn.replies(1);
    await say(conn, "EHLO c\r\n");
    expect(await say(conn, "AUTH LOGIN\r\n")).toEqual(["334 VXNlcm5hbWU6"]);
    expect(await say(conn, "*\r\n")).toEqual(["501 5.7.0 Authentication cancelled"]);
    expect(await say(conn, "AUTH PLAIN\r\n")).toEqual(["334 "]);
    expect(await say(conn, "!!!\r\n")).toEqual(["501 5.5.2 Invalid base64 data"]);
    expect(await say(conn, `AUTH LOGIN ${b64("alice@example.test")}\r\n`)).toEqual(["334 UGFzc3dvcmQ6"]);
    expect(await say(conn, `${b64("wrong")}\r\n`)).toEqual(["535 5.7.8 Authentication credentials invalid"]);
    expect(await say(conn, `AUTH PLAIN ${b64("\0alice@example.test\0bad")}\r\n`)).toEqual(["535 5.7.8 Authentication credentials invalid"]);
    const r = await say(conn, `AUTH PLAIN ${b64("\0alice@example.test\0bad")}\r\n`, 2);
    expect(r).toEqual(["535 5.7.8 Authentication credentials invalid", "421 4.7.0 Too many authentication failures, closing"]);
    expect(conn.closed).toBe(true);
  });

  test("an over-long AUTH response: 500 5.5.6 (RFC 4954 §4), the session goes on", async () => {
    const { conn } = setup("submission", { ip: "127.0.0.1", allowLoopback: true });
    await conn.replies(1);
    await say(conn, "EHLO c\r\nAUTH PLAIN\r\n", 2);
    expect(await say(conn, `${"QUFB".repeat(5000)}\r\nNOOP\r\n`, 2)).toEqual(["500 5.5.6 Authentication exchange line is too long", "250 2.0.0 OK"]);
  });

  test("AUTH LOGIN success", async () => {
    const { conn } = setup("submission", { ip: "127.0.0.1", allowLoopback: true });
    await conn.replies(1);
    await say(conn, "EHLO c\r\nAUTH LOGIN\r\n", 2);
    await say(conn, `${b64("alice@example.test")}\r\n`);
    expect(await say(conn, `${b64("secret")}\r\n`)).toEqual(["235 2.7.0 Authentication successful"]);
  });

  test("a 421 from the auth limiter closes the connection", async () => {
    const { conn } = setup("submission", {
      ip: "127.0.0.1",
      allowLoopback: true,
      hooks: (h) => h.on("auth", () => ({ kind: "reject", reply: { code: 421, enhanced: "4.7.0", text: "Too many failed logins; try again later" } })),
    });
    await conn.replies(1);
    expect((await say(conn, `EHLO c\r\nAUTH PLAIN ${b64("\0a\0b")}\r\n`, 2))[1]).toBe("421 4.7.0 Too many failed logins; try again later");
    expect(conn.closed).toBe(true);
  });
});
