// REPLACE (RFC 8508) on the wire, after its §3 example: untagged APPENDUID, then EXPUNGE of
// the replaced message, in the same mailbox or another; the old one stays on failure.
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { TestServer } from "../../../tests/helpers/server.ts";
import { deliver, rawLogin, startImap } from "../../../tests/helpers/imap.ts";

let srv: TestServer;
beforeAll(async () => {
  srv = await startImap();
  for (let i = 1; i <= 3; i++) await deliver(srv, 0, "Drafts", `Subject: draft ${i}\r\n\r\nx\r\n`, ["\\Draft"]);
});
afterAll(() => srv.cleanup());

const draft =
  "Date: Thu, 1 Jan 2015 00:05:00 -0500 (EST)\r\nFrom: Fritz Schmidt <fritz.ze@example.org>\r\nSubject: Saturday Dinner\r\n\r\nHi Otto, will you be able to join us for dinner on Saturday?\r\n";

test("UID REPLACE in the selected mailbox: APPENDUID, then EXPUNGE", async () => {
  const c = await rawLogin(srv, 0);
  await c.cmd("SELECT Drafts");
  const r = await c.cmd(`UID REPLACE 2 Drafts (\\Draft \\Seen) {${draft.length}+}\r\n${draft}`);
  expect(r).toMatch(/\* OK \[APPENDUID \d+ 4\][^\r]*\r\n\* 2 EXPUNGE\r\n(\* 3 EXISTS\r\n(\* \d+ RECENT\r\n)?)?t\d+ OK/);
  expect(await c.cmd("UID FETCH 1:* (FLAGS)")).toMatch(/UID 4 FLAGS \(\\Draft \\Seen/);
  // Into another mailbox; then a failed one leaves the old message.
  expect(await c.cmd(`REPLACE 1 Sent {${draft.length}+}\r\n${draft}`)).toMatch(/\* OK \[APPENDUID \d+ 1\][^\r]*\r\n\* 1 EXPUNGE\r\n/);
  expect(await c.cmd(`REPLACE 1 NoSuch {${draft.length}+}\r\n${draft}`)).toMatch(/NO \[TRYCREATE\]/);
  expect(await c.cmd(`UID REPLACE 99 Drafts {${draft.length}+}\r\n${draft}`)).toMatch(/NO \[NONEXISTENT\]/);
  expect(await c.cmd("SEARCH ALL")).toContain("* SEARCH 1 2\r\n");
  await c.cmd("EXAMINE Drafts");
  expect(await c.cmd(`REPLACE 1 Drafts {${draft.length}+}\r\n${draft}`)).toMatch(/NO \[READ-ONLY\]/);
  c.close();
});
