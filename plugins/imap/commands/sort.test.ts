// SORT on the wire (RFC 5256, RFC 5957): DISPLAYFROM decodes RFC 2047 display names before
// comparing; keys compare with i;ascii-casemap (upper-case fold: "[" and "_" after letters).
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { TestServer } from "../../../tests/helpers/server.ts";
import { deliver, rawLogin, startImap } from "../../../tests/imap/helpers.ts";

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
