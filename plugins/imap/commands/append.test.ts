// APPEND on the wire: MULTIAPPEND (RFC 3502, its §6 example) stores all messages or none;
// CATENATE (RFC 4469, after its §5 example) builds a message from TEXT and URL parts.
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { TestServer } from "../../../tests/helpers/server.ts";
import { deliver, rawLogin, startImap } from "../../../tests/helpers/imap.ts";

let srv: TestServer;
beforeAll(async () => {
  srv = await startImap();
  await deliver(
    srv,
    0,
    "INBOX",
    'Subject: source\r\nContent-Type: multipart/mixed; boundary="s"\r\n\r\n--s\r\nContent-Type: text/plain\r\n\r\nhello part one\r\n--s\r\nContent-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0=\r\n--s--\r\n',
  );
});
afterAll(() => srv.cleanup());

const m1 =
  "Date: Mon, 7 Feb 1994 21:52:25 -0800 (PST)\r\nFrom: Fred Foobar <foobar@Blurdybloop.example.COM>\r\nSubject: afternoon meeting\r\nTo: mooch@owatagu.example.net\r\n\r\nHello Joe, do you think we can meet at 3:30 tomorrow?\r\n";
const m2 =
  "Date: Mon, 7 Feb 1994 22:43:04 -0800 (PST)\r\nFrom: Joe Mooch <mooch@OWATAGU.example.net>\r\nSubject: Re: afternoon meeting\r\nTo: foobar@blurdybloop.example.com\r\n\r\n3:30 is fine with me.\r\n";

test("MULTIAPPEND: two messages, one APPENDUID set", async () => {
  const c = await rawLogin(srv, 0);
  await c.cmd("CREATE saved-messages");
  c.write(`A003 APPEND saved-messages (\\Seen) {${m1.length}}\r\n`);
  await c.readUntil(/^\+ .*\r\n/m);
  c.write(`${m1} (\\Seen) " 7-Feb-1994 22:43:04 -0800" {${m2.length}}\r\n`);
  await c.readUntil(/^\+ .*\r\n/m);
  c.write(`${m2}\r\n`);
  expect(await c.readUntil(/^A003 .*\r\n/m)).toMatch(/A003 OK \[APPENDUID \d+ 1:2\] APPEND completed/);
  expect(await c.cmd("STATUS saved-messages (MESSAGES)")).toContain("MESSAGES 2");
  c.close();
});

test("MULTIAPPEND is all or nothing: one bad message stores none", async () => {
  const c = await rawLogin(srv, 0);
  await c.cmd("CREATE atomic");
  const r = await c.cmd(`APPEND atomic {${m1.length}+}\r\n${m1} CATENATE (URL "/INBOX/;UID=99")`);
  expect(r).toMatch(/NO \[BADURL \/INBOX\/;UID=99\]/);
  expect(await c.cmd("STATUS atomic (MESSAGES)")).toContain("MESSAGES 0");
  c.close();
});

test("CATENATE: TEXT literals and URLs of our own messages", async () => {
  const c = await rawLogin(srv, 0);
  const st = await c.cmd("STATUS INBOX (UIDVALIDITY)");
  const uv = /UIDVALIDITY (\d+)/.exec(st)![1];
  const head = 'Subject: cat\r\nContent-Type: multipart/mixed; boundary="c"\r\n\r\n--c\r\n';
  const mid = "\r\n--c\r\n";
  const tail = "\r\n--c--\r\n";
  const r = await c.cmd(
    `APPEND Drafts CATENATE (TEXT {${head.length}+}\r\n${head} URL "/INBOX;UIDVALIDITY=${uv}/;UID=1/;SECTION=1.MIME" URL "/INBOX;UIDVALIDITY=${uv}/;UID=1/;SECTION=1" TEXT {${mid.length}+}\r\n${mid} URL "imap://alice%40example.test@mx.example.test/INBOX/;UID=1/;SECTION=2.MIME" URL "/INBOX/;UID=1/;SECTION=2" TEXT {${tail.length}+}\r\n${tail})`,
  );
  expect(r).toMatch(/OK \[APPENDUID \d+ 1\]/);
  await c.cmd("SELECT Drafts");
  const body = await c.cmd("FETCH 1 (BODY.PEEK[1] BINARY.PEEK[2])");
  expect(body).toContain("BODY[1] {14}\r\nhello part one");
  expect(body).toContain("BINARY[2] {5}\r\n%PDF-");
  // Wrong UIDVALIDITY, no such part: BADURL.
  expect(await c.cmd(`APPEND Drafts CATENATE (URL "/INBOX;UIDVALIDITY=1/;UID=1")`)).toMatch(/NO \[BADURL/);
  expect(await c.cmd(`APPEND Drafts CATENATE (URL "/INBOX/;UID=1/;SECTION=7")`)).toMatch(/NO \[BADURL/);
  expect(await c.cmd(`APPEND Drafts CATENATE (FOO "x")`)).toMatch(/BAD/);
  c.close();
});
