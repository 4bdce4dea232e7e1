import { describe, expect, test } from "bun:test";
import { startSession } from "./session.ts";
import { FakeConn, fakeStore, type FakeStore } from "./test-fakes.ts";

const M1 = "Subject: one\r\n\r\nhello\r\n";
const M2 = "Subject: two\r\n\r\n.dotted line\r\nbody\r\n";

async function open(fs: FakeStore, conn = new FakeConn()): Promise<FakeConn> {
  startSession(conn, fs.deps);
  expect(await conn.take()).toBe("+OK mx.example.test POP3 server ready\r\n");
  return conn;
}

async function login(fs: FakeStore, conn?: FakeConn): Promise<FakeConn> {
  const c = await open(fs, conn);
  expect(await c.cmd("USER alice@example.test")).toStartWith("+OK");
  expect(await c.cmd("PASS secret")).toBe("+OK Logged in, maildrop has 2 messages (" + (M1.length + M2.length) + " octets)\r\n");
  return c;
}

describe("AUTHORIZATION state", () => {
  test("CAPA lists SASL and STLS before login, not after", async () => {
    const fs = fakeStore([M1, M2]);
    const c = await open(fs);
    const before = await c.cmd("CAPA", true);
    for (const cap of ["TOP", "UIDL", "USER", "RESP-CODES", "AUTH-RESP-CODE", "PIPELINING", "SASL PLAIN", "STLS"]) expect(before).toContain(`\r\n${cap}\r\n`);
    const c2 = await login(fakeStore([M1, M2]));
    const after = await c2.cmd("CAPA", true);
    expect(after).not.toContain("STLS");
    expect(after).not.toContain("SASL");
  });

  test("wrong password gets [AUTH]; three failures close the connection", async () => {
    const fs = fakeStore([M1]);
    const c = await open(fs);
    for (let i = 1; i <= 3; i++) {
      await c.cmd("USER alice@example.test");
      const r = await c.cmd("PASS wrong");
      expect(r).toStartWith("-ERR [AUTH] ");
    }
    expect(c.closed).toBe(true);
  });

  test("a temporary refusal from the auth hook is [SYS/TEMP]", async () => {
    const fs = fakeStore([M1], { auth: () => ({ kind: "reject", reply: { code: 421, text: "Too many failed logins" } }) });
    const c = await open(fs);
    await c.cmd("USER a");
    expect(await c.cmd("PASS b")).toBe("-ERR [SYS/TEMP] Too many failed logins\r\n");
  });

  test("PASS without USER, transaction commands and unknown commands are errors", async () => {
    const c = await open(fakeStore([M1]));
    expect(await c.cmd("PASS secret")).toStartWith("-ERR");
    expect(await c.cmd("STAT")).toBe("-ERR Not authenticated\r\n");
    expect(await c.cmd("RETR 1")).toBe("-ERR Not authenticated\r\n");
    expect(await c.cmd("NOOP")).toStartWith("-ERR");
    expect(await c.cmd("XYZZY 1")).toStartWith("-ERR");
  });

  test("PASS keeps spaces inside the password", async () => {
    const fs = fakeStore([], { auth: (c) => (c.password === "two words " ? { kind: "user", user: { accountId: 2, address: "b@x" } } : { kind: "pass" }) });
    const c = await open(fs);
    await c.cmd("USER b@x");
    expect(await c.cmd("PASS two words ")).toStartWith("+OK Logged in");
  });

  test("credentials are refused before TLS on a remote plain connection; STLS lifts that", async () => {
    const fs = fakeStore([M1, M2]);
    const conn = new FakeConn();
    conn.isLoopback = false;
    const c = await open(fs, conn);
    const plain = await c.cmd("CAPA", true);
    expect(plain).not.toContain("SASL");
    expect(plain).not.toContain("\r\nUSER\r\n");
    expect(plain).toContain("\r\nSTLS\r\n");
    expect(await c.cmd("USER alice@example.test")).toStartWith("-ERR [AUTH] Plaintext authentication disallowed");
    expect(await c.cmd("AUTH PLAIN " + Buffer.from("\0alice@example.test\0secret").toString("base64"))).toStartWith("-ERR [AUTH]");
    expect(fs.authCalls).toHaveLength(0);
    expect(await c.cmd("STLS")).toBe("+OK Begin TLS negotiation now\r\n");
    expect(conn.secure).toBe(true);
    expect(await c.cmd("STLS")).toStartWith("-ERR");
    const capa = await c.cmd("CAPA", true);
    expect(capa).toContain("SASL PLAIN");
    expect(capa).toContain("\r\nUSER\r\n");
    expect(capa).not.toContain("STLS");
    expect(await c.cmd("USER alice@example.test")).toStartWith("+OK");
    expect(await c.cmd("PASS secret")).toStartWith("+OK");
  });

  test("commands pipelined behind STLS are discarded (RFC 2595 §4)", async () => {
    const fs = fakeStore([M1]);
    const conn = new FakeConn();
    const c = await open(fs, conn);
    c.send("STLS\r\nUSER alice@example.test\r\nPASS secret\r\n");
    expect(await c.take()).toBe("+OK Begin TLS negotiation now\r\n");
    await Bun.sleep(5);
    expect(c.out).toBe("");
    expect(fs.authCalls).toHaveLength(0);
  });

  test("AUTH PLAIN with an initial response, with a continuation, cancelled", async () => {
    const fs = fakeStore([M1, M2]);
    const ir = Buffer.from("\0alice@example.test\0secret").toString("base64");
    const c = await open(fs);
    expect(await c.cmd("AUTH", true)).toBe("+OK\r\nPLAIN\r\n.\r\n");
    expect(await c.cmd("AUTH CRAM-MD5")).toStartWith("-ERR");
    expect(await c.cmd("AUTH PLAIN")).toBe("+ \r\n");
    expect(await c.cmd("*")).toBe("-ERR Authentication cancelled\r\n");
    expect(await c.cmd("AUTH PLAIN")).toBe("+ \r\n");
    expect(await c.cmd("not-base64!")).toBe("-ERR Invalid base64 data\r\n");
    expect(await c.cmd("AUTH PLAIN " + Buffer.from("\0alice@example.test\0nope").toString("base64"))).toStartWith("-ERR [AUTH]");
    expect(await c.cmd("AUTH PLAIN")).toBe("+ \r\n");
    expect(await c.cmd(ir)).toStartWith("+OK Logged in");
    const c2 = await open(fakeStore([M1, M2]));
    expect(await c2.cmd(`auth plain ${ir}`)).toStartWith("+OK Logged in");
    expect(fs.authCalls.at(-1)).toEqual({ mechanism: "PLAIN", username: "alice@example.test", password: "secret", authzid: undefined });
  });

  test("the maildrop is locked to one session; QUIT or a drop releases it", async () => {
    const fs = fakeStore([M1, M2]);
    const a = await login(fs);
    const b = await open(fs);
    await b.cmd("USER alice@example.test");
    expect(await b.cmd("PASS secret")).toBe("-ERR [IN-USE] Maildrop is locked by another POP3 session\r\n");
    a.close(); // dropped without QUIT
    expect(await b.cmd("PASS secret")).toStartWith("-ERR"); // USER is forgotten after a failed PASS
    await b.cmd("USER alice@example.test");
    expect(await b.cmd("PASS secret")).toStartWith("+OK Logged in");
  });
});

describe("TRANSACTION state", () => {
  test("STAT, LIST, UIDL, NOOP", async () => {
    const c = await login(fakeStore([M1, M2]));
    expect(await c.cmd("STAT")).toBe(`+OK 2 ${M1.length + M2.length}\r\n`);
    expect(await c.cmd("LIST", true)).toBe(`+OK 2 messages (${M1.length + M2.length} octets)\r\n1 ${M1.length}\r\n2 ${M2.length}\r\n.\r\n`);
    expect(await c.cmd("LIST 2")).toBe(`+OK 2 ${M2.length}\r\n`);
    expect(await c.cmd("UIDL", true)).toBe("+OK unique-id listing follows\r\n1 777.1\r\n2 777.2\r\n.\r\n");
    expect(await c.cmd("UIDL 1")).toBe("+OK 1 777.1\r\n");
    expect(await c.cmd("NOOP")).toBe("+OK\r\n");
  });

  test("RETR dot-stuffs and announces the unstuffed size; TOP cuts the body", async () => {
    const c = await login(fakeStore([M1, M2]));
    expect(await c.cmd("RETR 2", true)).toBe(`+OK ${M2.length} octets\r\nSubject: two\r\n\r\n..dotted line\r\nbody\r\n.\r\n`);
    expect(await c.cmd("TOP 2 0", true)).toBe("+OK top of message follows\r\nSubject: two\r\n\r\n.\r\n");
    expect(await c.cmd("TOP 2 1", true)).toBe("+OK top of message follows\r\nSubject: two\r\n\r\n..dotted line\r\n.\r\n");
  });

  test("bad message numbers and arguments", async () => {
    const c = await login(fakeStore([M1, M2]));
    expect(await c.cmd("RETR 3")).toBe("-ERR No such message, only 2 messages in maildrop\r\n");
    expect(await c.cmd("RETR 0")).toStartWith("-ERR No such message");
    expect(await c.cmd("RETR x")).toBe("-ERR Invalid message number\r\n");
    expect(await c.cmd("TOP 1")).toStartWith("-ERR");
    expect(await c.cmd("TOP 1 -1")).toBe("-ERR Invalid line count\r\n");
    expect(c.closed).toBe(false);
  });

  test("DELE marks, RSET unmarks, deleted messages are hidden", async () => {
    const fs = fakeStore([M1, M2]);
    const c = await login(fs);
    expect(await c.cmd("DELE 1")).toBe("+OK message 1 deleted\r\n");
    expect(await c.cmd("DELE 1")).toBe("-ERR Message 1 already deleted\r\n");
    expect(await c.cmd("RETR 1")).toBe("-ERR Message 1 already deleted\r\n");
    expect(await c.cmd("STAT")).toBe(`+OK 1 ${M2.length}\r\n`);
    expect(await c.cmd("LIST", true)).toBe(`+OK 1 messages (${M2.length} octets)\r\n2 ${M2.length}\r\n.\r\n`);
    expect(await c.cmd("RSET")).toBe(`+OK maildrop has 2 messages (${M1.length + M2.length} octets)\r\n`);
    expect(await c.cmd("QUIT")).toBe("+OK mx.example.test POP3 server signing off (2 messages left)\r\n");
    expect(fs.removed).toEqual([]);
  });

  test("QUIT applies deletions through store.remove; a dropped session does not", async () => {
    const fs = fakeStore([M1, M2]);
    const a = await login(fs);
    await a.cmd("DELE 2");
    a.close();
    expect(fs.removed).toEqual([]);
    const b = await login(fs);
    await b.cmd("DELE 2");
    expect(await b.cmd("QUIT")).toBe("+OK mx.example.test POP3 server signing off (1 messages left)\r\n");
    expect(fs.removed).toEqual([[2]]);
    expect(b.closed).toBe(true);
  });

  test("a failing UPDATE answers [SYS/TEMP]", async () => {
    const fs = fakeStore([M1, M2]);
    const c = await login(fs);
    await c.cmd("DELE 1");
    fs.failRemove = true;
    expect(await c.cmd("QUIT")).toBe("-ERR [SYS/TEMP] Some deleted messages were not removed\r\n");
  });

  test("a message expunged by another session cannot be retrieved", async () => {
    const fs = fakeStore([M1, M2]);
    const c = await login(fs);
    fs.emit({ accountId: 1, mailboxId: 1, kind: "expunge", uids: [1], modseq: 9, origin: "imap-c9" });
    expect(await c.cmd("RETR 1")).toBe("-ERR Message 1 was removed by another session\r\n");
    expect(await c.cmd("RETR 2", true)).toStartWith("+OK");
  });

  test("pipelined commands are answered in order", async () => {
    const c = await login(fakeStore([M1, M2]));
    c.out = "";
    c.send("STAT\r\nUIDL 2\r\nRETR 1\r\nNOOP\r\n");
    for (let i = 0; i < 500 && !c.out.endsWith("+OK\r\n"); i++) await Bun.sleep(1);
    expect(c.out).toBe(`+OK 2 ${M1.length + M2.length}\r\n+OK 2 777.2\r\n+OK ${M1.length} octets\r\n${M1}.\r\n+OK\r\n`);
  });
  test("pipelined RETRs read ahead but answer in order, honouring DELE between them", async () => {
    const fs = fakeStore([M1, M2]);
    const c = await login(fs);
    c.out = "";
    c.send("RETR 1\r\nRETR 2\r\nDELE 2\r\nRETR 2\r\nRETR 1\r\nNOOP\r\n");
    for (let i = 0; i < 500 && !c.out.endsWith("+OK\r\n"); i++) await Bun.sleep(1);
    const r1 = `+OK ${M1.length} octets\r\n${M1}.\r\n`;
    const r2 = `+OK ${M2.length} octets\r\n${M2.replace("\r\n.", "\r\n..")}.\r\n`;
    expect(c.out).toBe(`${r1}${r2}+OK message 2 deleted\r\n-ERR Message 2 already deleted\r\n${r1}+OK\r\n`);
    expect(fs.blobReads).toBeLessThanOrEqual(4);
  });
});

describe("reading stored messages", () => {
  const P = "Return-Path: <b@x.test>\r\n";

  test("pipelined RETRs of prefixed messages: one prefix query for the lot, prefix sent first", async () => {
    const fs = fakeStore([M1, M2, M1], { prefixes: [P, "", P] });
    const c = await open(fs);
    await c.cmd("USER alice@example.test");
    await c.cmd("PASS secret");
    c.out = "";
    c.send("RETR 1\r\nRETR 2\r\nRETR 3\r\nNOOP\r\n");
    for (let i = 0; i < 500 && !c.out.endsWith("+OK\r\n"); i++) await Bun.sleep(1);
    const r1 = `+OK ${P.length + M1.length} octets\r\n${P}${M1}.\r\n`;
    expect(c.out).toBe(`${r1}+OK ${M2.length} octets\r\n${M2.replace("\r\n.", "\r\n..")}.\r\n${r1}+OK\r\n`);
    expect(fs.prefixQueries).toBe(1);
  });

  test("read-ahead starts only reads the blob store does not do synchronously", async () => {
    for (const syncReadMax of [undefined, 1 << 20]) {
      const fs = fakeStore([M1, M2]);
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      const asked: string[] = [];
      const get = fs.deps.store.blobs.get;
      fs.deps.store.blobs = { syncReadMax, get: async (id, size) => (asked.push(id), id === "b1" && (await gate), get(id, size)) };
      const c = await login(fs);
      c.out = "";
      c.send("RETR 1\r\nRETR 2\r\n");
      await Bun.sleep(5);
      // RETR 1 waits for its blob; RETR 2's was asked for early only when reads are async.
      expect(asked).toEqual(syncReadMax === undefined ? ["b1", "b2"] : ["b1"]);
      release();
      for (let i = 0; i < 500 && !c.out.endsWith(`${M2.replace("\r\n.", "\r\n..")}.\r\n`); i++) await Bun.sleep(1);
      expect(c.out).toStartWith(`+OK ${M1.length} octets\r\n${M1}.\r\n+OK ${M2.length} octets`);
    }
  });

  test("a large message and pipelined small ones: each answer whole and in order", async () => {
    const big = `Subject: big\r\n\r\n${".dot line\r\nplain line of text\r\n".repeat(12_000)}`;
    const clean = `Subject: clean\r\n\r\n${"plain line of text\r\n".repeat(16_000)}`;
    const fs = fakeStore([M1, big, M2, clean]);
    const c = await open(fs);
    await c.cmd("USER alice@example.test");
    const writes: number[] = [];
    const write = c.write.bind(c);
    c.write = (d) => (writes.push(typeof d === "string" ? d.length : d.byteLength), write(d));
    await c.cmd("PASS secret");
    c.out = "";
    c.send("RETR 1\r\nRETR 2\r\nRETR 3\r\nRETR 4\r\nNOOP\r\n");
    for (let i = 0; i < 1000 && !c.out.endsWith("+OK\r\n"); i++) await Bun.sleep(1);
    const stuffed = (m: string) => m.replace(/^\./gm, "..");
    expect(c.out).toBe(
      `+OK ${M1.length} octets\r\n${M1}.\r\n+OK ${big.length} octets\r\n${stuffed(big)}.\r\n+OK ${M2.length} octets\r\n${stuffed(M2)}.\r\n+OK ${clean.length} octets\r\n${clean}.\r\n+OK\r\n`,
    );
    expect(writes).toContain(clean.length); // written as it is
    // Gathered: not one write per answer, nor per stuffed line of the big one.
    expect(writes.length).toBeLessThan(20);
  });

  test("a row expunged by another process (no event) is reported removed at RETR", async () => {
    const fs = fakeStore([M1, M2]);
    const c = await login(fs);
    fs.messages.delete(2);
    expect(await c.cmd("RETR 2")).toBe("-ERR Message 2 was removed by another session\r\n");
    expect(await c.cmd("RETR 1", true)).toBe(`+OK ${M1.length} octets\r\n${M1}.\r\n`);
  });

  test("a failing read is a temporary error for that message only", async () => {
    const fs = fakeStore([M1, M2]);
    const c = await login(fs);
    // The in-place read fails for every message (a missing file); get() is tried next.
    fs.failReadInto = true;
    const get = fs.deps.store.blobs.get;
    fs.deps.store.blobs.get = async (id, size) => {
      if (id === "b1") throw new Error("EIO");
      return get(id, size);
    };
    expect(await c.cmd("RETR 1")).toStartWith("-ERR ");
    expect(await c.cmd("RETR 2", true)).toStartWith(`+OK ${M2.length} octets`);
  });

  test("RETR in place: clean messages between unclean ones, a read failing in place, pipelined, each answer whole", async () => {
    const clean = "Subject: clean\r\n\r\nplain\r\n";
    const bare = "Subject: bare\nX: cr\ronly\r\n";
    const noEnd = "Subject: no end\r\n\r\nlast line";
    const big = `Subject: big\r\n\r\n${"a line of text\r\n".repeat(9000)}`; // past one output buffer
    const fs = fakeStore([clean, M2, bare, noEnd, big, clean], { prefixes: ["Received: x\r\n", "", "", "Return-Path: <a@b>\r\n", "", ""] });
    const c = await open(fs);
    await c.cmd("USER alice@example.test");
    expect(await c.cmd("PASS secret")).toStartWith("+OK Logged in, maildrop has 6 messages");
    const reads = fs.blobReads;
    const want = (p: string, m: string) => {
      const crlf = (p + m).replace(/\r\n|\r|\n/g, "\r\n");
      return `+OK ${(p + m).length} octets\r\n${crlf.replace(/^\./gm, "..")}${crlf.endsWith("\r\n") ? "" : "\r\n"}.\r\n`;
    };
    const all = want("Received: x\r\n", clean) + want("", M2) + want("", bare) + want("Return-Path: <a@b>\r\n", noEnd) + want("", big) + want("", clean);
    c.out = "";
    c.send("RETR 1\r\nRETR 2\r\nRETR 3\r\nRETR 4\r\nRETR 5\r\nRETR 6\r\n");
    for (let i = 0; i < 500 && c.out.length < all.length; i++) await Bun.sleep(1);
    // (the bare-LF message's size line announces its stored size, as the general way does)
    expect(c.out.replace(/^\+OK \d+ octets\r\nSubject: bare/m, `+OK ${bare.length} octets\r\nSubject: bare`)).toBe(all);
    expect(fs.blobReads - reads).toBeGreaterThanOrEqual(6);
    fs.failReadInto = true;
    expect(await c.cmd("RETR 1", true)).toBe(want("Received: x\r\n", clean));
  });
});

describe("limits and shutdown", () => {
  test("long lines and repeated errors end the session", async () => {
    const c = await open(fakeStore([M1]));
    expect(await c.cmd("USER " + "a".repeat(300))).toBe("-ERR Line too long\r\n");
    expect(await c.cmd("x".repeat(10_000))).toBe("-ERR Line too long\r\n");
    expect(await c.cmd("BOGUS")).toStartWith("-ERR");
    expect(await c.cmd("\0\0\0")).toStartWith("-ERR");
    expect(await c.cmd("")).toContain("too many errors");
    expect(c.closed).toBe(true);
  });

  test("idle timeout is 10 minutes and logs out without UPDATE", async () => {
    const fs = fakeStore([M1]);
    const c = await open(fs);
    expect(c.idleMs).toBe(600_000);
    await c.cmd("USER alice@example.test");
    await c.cmd("PASS secret");
    await c.cmd("DELE 1");
    c.onIdle!();
    expect(await c.take()).toBe("-ERR Disconnected for inactivity\r\n");
    expect(c.closed).toBe(true);
    expect(fs.removed).toEqual([]);
  });

  test("the idle timer does not cut a RETR in progress", async () => {
    const fs = fakeStore([M1, M2]);
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const get = fs.deps.store.blobs.get;
    fs.deps.store.blobs.get = async (id, size) => (await gate, get(id, size));
    fs.failReadInto = true; // so RETR goes to the slow get()
    const c = await login(fs);
    c.send("RETR 1\r\n");
    await Bun.sleep(5);
    c.onIdle!();
    expect(c.closed).toBe(false);
    release();
    expect(await c.take(true)).toBe(`+OK ${M1.length} octets\r\n${M1}.\r\n`);
    c.onIdle!();
    expect(await c.take()).toBe("-ERR Disconnected for inactivity\r\n");
  });

  test("server shutdown closes without applying deletions", async () => {
    const fs = fakeStore([M1]);
    const c = new FakeConn();
    startSession(c, fs.deps);
    await c.take();
    await c.cmd("USER alice@example.test");
    await c.cmd("PASS secret");
    await c.cmd("DELE 1");
    c.shutdown();
    expect(await c.take()).toBe("-ERR [SYS/TEMP] Server shutting down\r\n");
    expect(c.closed).toBe(true);
    expect(fs.removed).toEqual([]);
  });

  test("a chunk of 200,000 empty lines is refused without a crash", async () => {
    const c = await open(fakeStore([M1]));
    c.out = "";
    c.send(Buffer.alloc(200_000, 0x0a));
    for (let i = 0; i < 1000 && !c.closed; i++) await Bun.sleep(1);
    expect(c.closed).toBe(true);
    expect(c.out).toEndWith("too many errors, closing connection\r\n");
    expect(c.out.split("\r\n")).toHaveLength(5 + 1); // maxErrors answers, then nothing
  });

  test("a flood of pipelined lines behind a busy command pauses reading", async () => {
    const fs = fakeStore([M1]);
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const auth = fs.deps.auth;
    fs.deps.auth = async (cred) => (await gate, auth(cred));
    const c = await open(fs);
    c.send("USER alice@example.test\r\nPASS secret\r\n" + "NOOP\r\n".repeat(200));
    expect(c.paused).toBe(true);
    release();
    for (let i = 0; i < 1000 && c.paused; i++) await Bun.sleep(1);
    expect(c.paused).toBe(false);
    for (let i = 0; i < 1000 && c.out.split("+OK\r\n").length < 201; i++) await Bun.sleep(1);
    expect(c.out.split("+OK\r\n")).toHaveLength(201);
  });
});
