// SORT on the wire (RFC 5256, RFC 5957): DISPLAYFROM decodes RFC 2047 display names before
// comparing; keys compare with i;ascii-casemap (upper-case fold: "[" and "_" after letters).
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { TestServer } from "../../../tests/helpers/server.ts";
import { deliver, rawLogin, startImap } from "../../../tests/helpers/imap.ts";

let srv: TestServer;
beforeAll(async () => {
  srv = await startImap();
  await deliver(srv, 0, "INBOX", "From: =?utf-8?q?Zo=C3=AB?= <a@example.test>\r\nSubject: _under\r\n\r\nx\r\n");
  await deliver(srv, 0, "INBOX", "From: =?utf-8?q?Adam?= <z@example.test>\r\nSubject: [bracket\r\n\r\nx\r\n");
  await deliver(srv, 0, "INBOX", "From: mike <m@example.test>\r\nSubject: apple\r\n\r\nx\r\n");
  await deliver(srv, 0, "INBOX", "From: b@example.test\r\nSubject: Banana\r\n\r\nx\r\n");
});
afterAll(() => srv.cleanup());

test("DISPLAYFROM compares decoded display names (else the address)", async () => {
  const c = await rawLogin(srv, 0);
  await c.cmd("SELECT INBOX");
  // Adam, b@example.test, mike, Zoë — case-folded.
  expect(await c.cmd("SORT (DISPLAYFROM) UTF-8 ALL")).toContain("* SORT 2 4 3 1\r\n");
  expect(await c.cmd("SORT (REVERSE DISPLAYFROM) UTF-8 ALL")).toContain("* SORT 1 3 4 2\r\n");
  c.close();
});

test("SUBJECT uses i;ascii-casemap: letters fold to upper case, so [ and _ sort after them", async () => {
  const c = await rawLogin(srv, 0);
  await c.cmd("SELECT INBOX");
  // APPLE < BANANA < [BRACKET < _UNDER
  expect(await c.cmd("SORT (SUBJECT) UTF-8 ALL")).toContain("* SORT 3 4 2 1\r\n");
  c.close();
});

test("ESORT (RFC 5267 §3): RETURN options answer with ESEARCH, MIN/MAX in sort order", async () => {
  const c = await rawLogin(srv, 0);
  await c.cmd("SELECT INBOX");
  expect(await c.cmd("SORT RETURN (MIN MAX COUNT ALL) (SUBJECT) UTF-8 ALL")).toMatch(/\* ESEARCH \(TAG "t\d+"\) MIN 3 MAX 1 COUNT 4 ALL 3:4,2,1\r\n/);
  expect(await c.cmd("UID SORT RETURN () (SUBJECT) UTF-8 ALL")).toMatch(/\* ESEARCH \(TAG "t\d+"\) UID ALL 3:4,2,1\r\n/);
  expect(await c.cmd("SORT RETURN (PARTIAL 2:3) (SUBJECT) UTF-8 ALL")).toMatch(/\* ESEARCH \(TAG "t\d+"\) PARTIAL \(2:3 4,2\)\r\n/);
  expect(await c.cmd("SORT RETURN (SAVE) (SUBJECT) UTF-8 ALL")).toMatch(/t\d+ BAD/);
  c.close();
});

test("CONTEXT=SORT: a live SORT result gets ADDTO at the right position, two sessions", async () => {
  const a = await rawLogin(srv, 0);
  const b = await rawLogin(srv, 0);
  await a.cmd("SELECT INBOX");
  await b.cmd("SELECT INBOX");
  expect(await a.cmd("UID SORT RETURN (COUNT UPDATE) (SUBJECT) UTF-8 ALL")).toMatch(/COUNT 4\r\n/);
  // Another session appends "Cherry": between BANANA (4) and [BRACKET (2).
  const m = "From: c@example.test\r\nSubject: Cherry\r\n\r\nx\r\n";
  await b.cmd(`APPEND INBOX {${m.length}+}\r\n${m}`);
  const n = await a.cmd("NOOP");
  expect(n).toMatch(/\* 5 EXISTS\r\n(\* \d+ RECENT\r\n)?\* ESEARCH \(TAG "t\d+"\) UID ADDTO \(3 5\)\r\n/);
  a.close();
  b.close();
});
