// MOVE into the selected mailbox itself (RFC 6851 does not forbid it): COPYUID with the new
// UIDs, EXPUNGE of the old ones, EXISTS for the new ones; another session sees the same.
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { TestServer } from "../../../tests/helpers/server.ts";
import { deliver, rawLogin, startImap } from "../../../tests/imap/helpers.ts";

let srv: TestServer;
beforeAll(async () => {
  srv = await startImap();
  for (let i = 1; i <= 3; i++) await deliver(srv, 0, "INBOX", `Subject: m${i}\r\n\r\nx\r\n`, ["\\Seen"]);
});
afterAll(() => srv.cleanup());

test("UID MOVE into the same mailbox: new UIDs, old ones expunged", async () => {
  const a = await rawLogin(srv, 0);
  const b = await rawLogin(srv, 0);
  await a.cmd("SELECT INBOX");
  await b.cmd("SELECT INBOX");
  const r = await a.cmd("UID MOVE 1:2 INBOX");
  expect(r).toMatch(/\* OK \[COPYUID \d+ 1:2 4:5\][^\r]*\r\n\* 2 EXPUNGE\r\n\* 1 EXPUNGE\r\n(\* 3 EXISTS\r\n)?/);
  expect(r).toMatch(/t\d+ OK /);
  const all = r + (await a.cmd("NOOP"));
  expect(all).toContain("* 3 EXISTS");
  expect(await a.cmd("UID FETCH 1:* (UID)")).toMatch(/\* 1 FETCH \(UID 3\)\r\n\* 2 FETCH \(UID 4\)\r\n\* 3 FETCH \(UID 5\)\r\n/);
  const n = await b.cmd("NOOP");
  expect(n).toContain("* 2 EXPUNGE\r\n* 1 EXPUNGE\r\n");
  expect(n).toContain("* 3 EXISTS\r\n");
  a.close();
  b.close();
});
