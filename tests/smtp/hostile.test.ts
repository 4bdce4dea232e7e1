// Input no well-behaved client sends, over a raw socket: SMTP smuggling attempts, huge
// lines, binary junk, error floods. Each gets a clear reply or a clean close; the server
// keeps serving and nothing is half-stored. Also BDAT and pipelining on the wire.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { TestServer } from "../helpers/server.ts";
import { mailbox, raw, smtpServer } from "../helpers/smtp.ts";

const ALICE = "alice@example.test";
const BOB = "bob@example.test";

let s: TestServer;
let port: number;

beforeAll(async () => {
  s = await smtpServer({ users: [ALICE, BOB].map((address) => ({ address, password: "pw" })) });
  port = s.port("smtp");
});
afterAll(async () => {
  await s?.cleanup();
});

async function stillServing(): Promise<void> {
  const c = await raw(port);
  expect(await c.replies(1)).toEqual(["220 mx.example.test ESMTP kotakpos"]);
  c.send("QUIT\r\n");
  expect(await c.replies(1)).toEqual(["221 2.0.0 Bye"]);
}

describe("SMTP smuggling (bare LF / bare CR in DATA)", () => {
  for (const [name, end] of [
    ["\\n.\\n", "\n.\n"],
    ["\\r\\n.\\n", "\r\n.\n"],
    ["\\n.\\r\\n", "\n.\r\n"],
    ["\\r.\\r", "\r.\r"],
  ] as const) {
    test(`"${name}" never ends the data; refused with 554 and closed`, async () => {
      const tag = `smuggle-${Buffer.from(name).toString("hex")}`;
      const c = await raw(port);
      await c.replies(1);
      c.send(`EHLO evil.test\r\nMAIL FROM:<a@remote.test>\r\nRCPT TO:<${ALICE}>\r\nDATA\r\n`);
      expect(await c.replies(4)).toEqual(expect.arrayContaining(["354 End data with <CR><LF>.<CR><LF>"]));
      c.send(`Subject: ${tag}-outer\r\n\r\nhello${end}MAIL FROM:<admin@example.test>\r\nRCPT TO:<${BOB}>\r\nDATA\r\nSubject: ${tag}-inner\r\n\r\nsmuggled\r\n.\r\n`);
      const r = await c.replies(1);
      expect(r[0]).toStartWith("554 5.5.2 Bare LF or CR in message data");
      await c.closed;
      expect((await mailbox(s, ALICE)).filter((m) => m.includes(tag))).toHaveLength(0);
      expect((await mailbox(s, BOB)).filter((m) => m.includes(tag))).toHaveLength(0);
    });
  }
  test("the server still serves afterwards", stillServing);
});

describe("hostile input", () => {
  test("a very long command line: 500 5.5.2, the session goes on", async () => {
    const c = await raw(port);
    await c.replies(1);
    c.send(`EHLO ${"a".repeat(200_000)}\r\n`);
    expect(await c.replies(1)).toEqual(["500 5.5.2 Line too long (RFC 5321 section 4.5.3.1)"]);
    c.send(`HELO ${"b".repeat(600)}\r\nNOOP\r\n`);
    expect(await c.replies(2)).toEqual(["500 5.5.2 Line too long (RFC 5321 section 4.5.3.1)", "250 2.0.0 OK"]);
    c.send("QUIT\r\n");
    await c.closed;
  });

  test("binary junk: clear 500 replies, then 421 and close", async () => {
    const c = await raw(port);
    await c.replies(1);
    const junk = new Uint8Array(64 * 1024);
    let x = 12345;
    for (let i = 0; i < junk.length; i++) junk[i] = (x = (x * 1103515245 + 12345) & 0x7fffffff) >> 16;
    c.send(junk);
    await c.closed;
    const finals = c.received.split("\r\n").filter((l) => /^\d{3} /.test(l));
    expect(finals.length).toBeGreaterThan(1);
    expect(finals.slice(1, -1).every((l) => l.startsWith("500 5.5.2"))).toBe(true);
    expect(finals.at(-1)).toMatch(/^421 4\.7\.0 /);
  });

  test("too many errors: 421 4.7.0 and close", async () => {
    const c = await raw(port);
    await c.replies(1);
    c.send("WHAT\r\n".repeat(25));
    await c.closed;
    const finals = c.received.split("\r\n").filter((l) => /^\d{3} /.test(l));
    expect(finals.filter((l) => l === "500 5.5.2 Command not recognized")).toHaveLength(20);
    expect(finals.at(-1)).toBe("421 4.7.0 Too many errors, closing connection");
  });

  test("an over-long line inside DATA: refused after the data, nothing stored", async () => {
    const c = await raw(port);
    await c.replies(1);
    c.send(`EHLO c\r\nMAIL FROM:<a@remote.test>\r\nRCPT TO:<${ALICE}>\r\nDATA\r\n`);
    await c.replies(4);
    c.send(`Subject: long-data-line\r\n\r\n${"L".repeat(40_000)}\r\n.\r\nNOOP\r\n`);
    expect(await c.replies(2)).toEqual(["500 5.5.2 Line too long in message data (RFC 5321 section 4.5.3.1.6)", "250 2.0.0 OK"]);
    expect((await mailbox(s, ALICE)).filter((m) => m.includes("long-data-line"))).toHaveLength(0);
    c.end();
  });

  test("a client that vanishes in the middle of DATA leaves nothing stored", async () => {
    const c = await raw(port);
    await c.replies(1);
    c.send(`EHLO c\r\nMAIL FROM:<a@remote.test>\r\nRCPT TO:<${ALICE}>\r\nDATA\r\n`);
    await c.replies(4);
    c.send("Subject: vanished\r\n\r\nhalf a message\r\n");
    c.end();
    await c.closed;
    await stillServing();
    expect((await mailbox(s, ALICE)).filter((m) => m.includes("vanished"))).toHaveLength(0);
  });

  test("commands before the greeting are answered after it, in order", async () => {
    const c = await raw(port);
    c.send("NOOP\r\n");
    expect(await c.replies(2)).toEqual(["220 mx.example.test ESMTP kotakpos", "250 2.0.0 OK"]);
    c.end();
  });

  test("the server still serves afterwards", stillServing);
});

describe("on the wire", () => {
  test("a whole transaction pipelined in one write, then a second one", async () => {
    const c = await raw(port);
    await c.replies(1);
    const msg = (tag: string) => `MAIL FROM:<a@remote.test>\r\nRCPT TO:<${ALICE}>\r\nRCPT TO:<${BOB}>\r\nDATA\r\n`;
    c.send(`EHLO c\r\n${msg("p1")}`);
    const r = await c.replies(5);
    expect(r.slice(1)).toEqual(["250 2.1.0 Sender OK", "250 2.1.5 Recipient OK", "250 2.1.5 Recipient OK", "354 End data with <CR><LF>.<CR><LF>"]);
    c.send("Subject: pipelined-raw\r\n\r\n..leading dot\r\n.\r\n");
    expect((await c.replies(1))[0]).toMatch(/^250 2\.0\.0 OK queued as \w+$/);
    const [m] = (await mailbox(s, BOB)).filter((x) => x.includes("pipelined-raw"));
    expect(m!.endsWith("\r\n\r\n.leading dot\r\n")).toBe(true);
    c.send("QUIT\r\n");
    await c.closed;
  });

  test("BDAT (CHUNKING, RFC 3030): chunks with binary-looking content and CRLF.CRLF inside", async () => {
    const c = await raw(port);
    await c.replies(1);
    const c1 = "Subject: bdat-raw\r\n\r\n";
    const c2 = "first\r\n.\r\nstill the message\r\n";
    c.send(`EHLO c\r\nMAIL FROM:<a@remote.test>\r\nRCPT TO:<${ALICE}>\r\nBDAT ${c1.length}\r\n${c1}BDAT ${c2.length} LAST\r\n${c2}`);
    const r = await c.replies(5);
    expect(r[3]).toBe(`250 2.0.0 ${c1.length} octets received`);
    expect(r[4]).toMatch(/^250 2\.0\.0 OK queued as \w+$/);
    const [m] = (await mailbox(s, ALICE)).filter((x) => x.includes("bdat-raw"));
    expect(m!.endsWith(`\r\n${c1}${c2}`)).toBe(true);
    c.end();
  });
});
