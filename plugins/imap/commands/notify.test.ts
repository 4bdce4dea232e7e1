// NOTIFY (RFC 5465) on the wire, two sessions: STATUS for new and expunged messages and
// flag changes in other mailboxes, pushed without a command being run; LIST for created,
// renamed and deleted mailboxes; NOTIFY SET STATUS; NONE; BADEVENT.
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { TestServer } from "../../../tests/helpers/server.ts";
import { deliver, rawLogin, startImap } from "../../../tests/helpers/imap.ts";

let srv: TestServer;
beforeAll(async () => {
  srv = await startImap();
});
afterAll(() => srv.cleanup());

test("message events in other mailboxes arrive unasked; mailbox names too", async () => {
  const a = await rawLogin(srv, 0);
  const b = await rawLogin(srv, 0);
  expect(await a.cmd("CAPABILITY")).toContain(" NOTIFY");
  await a.cmd("SELECT Drafts");
  const set = await a.cmd("NOTIFY SET STATUS (SELECTED (MessageNew (UID) MessageExpunge)) (PERSONAL (MessageNew MessageExpunge FlagChange MailboxName))");
  expect(set).toContain("* STATUS INBOX (MESSAGES 0 UIDNEXT 1 UNSEEN 0)\r\n");
  expect(set).not.toContain("* STATUS Drafts");
  // A delivery to INBOX: told with no command from the client.
  await deliver(srv, 0, "INBOX", "Subject: n\r\n\r\nx\r\n");
  await a.readUntil(/\* STATUS INBOX \(MESSAGES 1 UIDNEXT 2 UNSEEN 1\)\r\n/);
  await b.cmd("SELECT INBOX");
  await b.cmd("STORE 1 +FLAGS (\\Seen)");
  await a.readUntil(/\* STATUS INBOX \(MESSAGES 1 UIDNEXT 2 UNSEEN 0\)\r\n/);
  await b.cmd("STORE 1 +FLAGS (\\Deleted)");
  await b.cmd("EXPUNGE");
  await a.readUntil(/\* STATUS INBOX \(MESSAGES 0 UIDNEXT 2 UNSEEN 0\)\r\n/);
  await b.cmd("CREATE Projects");
  await a.readUntil(/\* LIST \(\) "\/" Projects\r\n/);
  await b.cmd("RENAME Projects Done");
  await a.readUntil(/\* LIST \(\) "\/" Done \("OLDNAME" \(Projects\)\)\r\n/);
  await b.cmd("DELETE Done");
  await a.readUntil(/\* LIST \(\\NonExistent\) "\/" Done\r\n/);
  // The selected mailbox keeps the usual EXISTS.
  await b.cmd(`APPEND Drafts {5+}\r\nab\r\n\r\n`);
  expect(await a.cmd("NOOP")).toContain("* 1 EXISTS");
  // NONE: nothing more.
  expect(await a.cmd("NOTIFY NONE")).toMatch(/t\d+ OK/);
  await deliver(srv, 0, "INBOX", "Subject: n2\r\n\r\nx\r\n");
  expect(await a.cmd("NOOP")).not.toContain("STATUS");
  a.close();
  b.close();
});

test("only the events asked for; unknown events are BADEVENT; bad combinations BAD", async () => {
  const a = await rawLogin(srv, 1);
  const b = await rawLogin(srv, 1);
  expect(await a.cmd("NOTIFY SET (INBOXES (MessageNew MessageExpunge))")).toMatch(/t\d+ OK/);
  await b.cmd("SELECT INBOX");
  await deliver(srv, 1, "INBOX", "Subject: n\r\n\r\nx\r\n");
  await a.readUntil(/\* STATUS INBOX \(MESSAGES 1 UIDNEXT 2 UNSEEN 1\)\r\n/);
  await b.cmd("STORE 1 +FLAGS (\\Seen)"); // FlagChange not asked for
  await deliver(srv, 0, "Sent", "Subject: other mailbox\r\n\r\nx\r\n"); // not an inbox of this user
  expect(await a.cmd("NOOP")).not.toContain("STATUS");
  expect(await a.cmd("NOTIFY SET (PERSONAL (SubscriptionChange))")).toMatch(/NO \[BADEVENT/);
  expect(await a.cmd("NOTIFY SET (PERSONAL (MessageNew))")).toMatch(/t\d+ BAD/);
  expect(await a.cmd("NOTIFY SET (PERSONAL (FlagChange))")).toMatch(/t\d+ BAD/);
  a.close();
  b.close();
});
