// The seeds' last step: mail accepted by SMTP shows up at once in an IMAP client's IDLE,
// with the headers we added (Received …) inside BODY[] and counted in RFC822.SIZE.
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { TestServer } from "../helpers/server.ts";
import { python, RawClient, startImap, USERS } from "../helpers/imap.ts";

let srv: TestServer;
beforeAll(async () => {
  srv = await startImap();
});
afterAll(async () => {
  await srv.cleanup();
});

test("SMTP delivery reaches an IDLE session", async () => {
  const c = await RawClient.connect(srv.port("imap"));
  await c.cmd(`LOGIN ${USERS[0]!.address} ${USERS[0]!.password}`);
  const sel = await c.cmd("SELECT INBOX");
  const exists = Number(/\* (\d+) EXISTS/.exec(sel)![1]);
  c.write("i IDLE\r\n");
  await c.readUntil(/^\+ .*\r\n/m);
  await python(
    `
import smtplib, sys
s = smtplib.SMTP('127.0.0.1', int(sys.argv[1]))
s.sendmail('carol@elsewhere.test', [${JSON.stringify(USERS[0]!.address)}],
  b'From: Carol <carol@elsewhere.test>\\r\\nTo: alice@example.test\\r\\nSubject: over smtp\\r\\nMessage-ID: <smtp1@elsewhere.test>\\r\\n\\r\\nHi Alice\\r\\n')
s.quit()
`,
    [String(srv.port("smtp"))],
  );
  await c.readUntil(new RegExp(`^\\* ${exists + 1} EXISTS\\r\\n`, "m"), 10_000);
  c.write("DONE\r\n");
  await c.readUntil(/^i OK .*\r\n/m);
  const f = await c.cmd(`FETCH ${exists + 1} (ENVELOPE RFC822.SIZE BODY.PEEK[])`);
  expect(f).toContain('"over smtp"');
  expect(f).toContain('(("Carol" NIL "carol" "elsewhere.test"))');
  const body = /BODY\[\] \{(\d+)\}\r\n/.exec(f)!;
  const size = Number(/RFC822\.SIZE (\d+)/.exec(f)![1]);
  expect(Number(body[1])).toBe(size);
  const text = f.slice(body.index + body[0].length, body.index + body[0].length + size);
  expect(text).toMatch(/^Return-Path: <carol@elsewhere.test>\r\n/);
  expect(text).toMatch(/\r\nReceived: from /);
  expect(text).toContain("\r\n\r\nHi Alice\r\n");
  c.close();
});
