// ENABLE UIDONLY (RFC 9586) on the wire: UIDFETCH instead of FETCH, VANISHED instead of
// EXPUNGE, message numbers refused with BAD [UIDREQUIRED] — in this session and for changes
// made by another.
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { TestServer } from "../../../tests/helpers/server.ts";
import { deliver, rawLogin, startImap } from "../../../tests/helpers/imap.ts";

let srv: TestServer;
beforeAll(async () => {
  srv = await startImap();
  for (let i = 1; i <= 3; i++) await deliver(srv, 0, "INBOX", `Subject: u${i}\r\n\r\nx\r\n`, ["\\Seen"]);
});
afterAll(() => srv.cleanup());

test("UIDONLY: UIDFETCH, VANISHED, UIDREQUIRED", async () => {
  const a = await rawLogin(srv, 0);
  const b = await rawLogin(srv, 0);
  expect(await a.cmd("CAPABILITY")).toContain(" UIDONLY");
  expect(await a.cmd("ENABLE UIDONLY")).toContain("* ENABLED UIDONLY");
  await a.cmd("SELECT INBOX");
  await b.cmd("SELECT INBOX");
  expect(await a.cmd("UID FETCH 2:3 (FLAGS)")).toMatch(/\* 2 UIDFETCH \(FLAGS \(\\Seen[^)]*\)\)\r\n\* 3 UIDFETCH \(FLAGS/);
  expect(await a.cmd("FETCH 1 (FLAGS)")).toMatch(/t\d+ BAD \[UIDREQUIRED\]/);
  expect(await a.cmd("SEARCH ALL")).toMatch(/t\d+ BAD \[UIDREQUIRED\]/);
  expect(await a.cmd("UID STORE 3 +FLAGS (\\Flagged)")).toMatch(/\* 3 UIDFETCH \(FLAGS \(\\Flagged \\Seen[^)]*\)\)/);
  await b.cmd("STORE 1 +FLAGS (\\Deleted)");
  await b.cmd("EXPUNGE");
  await b.cmd("STORE 1 +FLAGS (\\Answered)");
  const n = await a.cmd("NOOP");
  expect(n).toContain("* VANISHED 1\r\n");
  expect(n).toMatch(/\* 2 UIDFETCH \(FLAGS \(\\Answered \\Seen[^)]*\)\)/);
  expect(n).not.toMatch(/EXPUNGE|\* \d+ FETCH/);
  a.close();
  b.close();
});
