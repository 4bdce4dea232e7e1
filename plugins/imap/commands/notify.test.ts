// NOTIFY (RFC 5465) on the wire, two sessions: STATUS for new and expunged messages and
// flag changes in other mailboxes, pushed without a command being run; LIST for created,
// renamed and deleted mailboxes and for subscription changes; METADATA for mailbox and
// server annotations; NOTIFY SET STATUS; NONE; BADEVENT.
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { TestServer } from "../../../tests/helpers/server.ts";
import { deliver, rawLogin, startImap, USERS } from "../../../tests/helpers/imap.ts";
import { Jmap } from "../../../tests/jmap/helpers.ts";

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
  expect(await a.cmd("NOTIFY SET (PERSONAL (MessageNew MessageExpunge AnnotationChange))")).toMatch(
    /NO \[BADEVENT \(MessageNew MessageExpunge FlagChange MailboxName SubscriptionChange MailboxMetadataChange ServerMetadataChange\)\]/,
  );
  expect(await a.cmd("NOTIFY SET (PERSONAL (MessageNew))")).toMatch(/t\d+ BAD/);
  expect(await a.cmd("NOTIFY SET (PERSONAL (FlagChange))")).toMatch(/t\d+ BAD/);
  a.close();
  b.close();
});

test("SubscriptionChange, MailboxMetadataChange, ServerMetadataChange (RFC 5465 §5.5-5.7)", async () => {
  const a = await rawLogin(srv, 0);
  const b = await rawLogin(srv, 0);
  const narrow = await rawLogin(srv, 0);
  const bob = await rawLogin(srv, 1);
  await a.cmd("SELECT INBOX");
  // A SELECTED group first: it decides message events only, not these (§6.1).
  const set = "NOTIFY SET (SELECTED (MessageNew MessageExpunge)) (PERSONAL (MailboxName SubscriptionChange MailboxMetadataChange ServerMetadataChange))";
  expect(await a.cmd(set)).toMatch(/t\d+ OK/);
  expect(await bob.cmd(set)).toMatch(/t\d+ OK/);
  expect(await narrow.cmd("NOTIFY SET (MAILBOXES Elsewhere (SubscriptionChange MailboxMetadataChange))")).toMatch(/t\d+ OK/);

  await b.cmd("CREATE Lists");
  await a.readUntil(/\* LIST \(\) "\/" Lists\r\n/);
  // Subscribing an existing mailbox, and unsubscribing it.
  await b.cmd("SUBSCRIBE Lists");
  await a.readUntil(/\* LIST \(\\Subscribed\) "\/" Lists\r\n/);
  await b.cmd("UNSUBSCRIBE Lists");
  await a.readUntil(/\* LIST \(\) "\/" Lists\r\n/);
  // A name with no mailbox (RFC 5258 §3.1 \NonExistent).
  await b.cmd("SUBSCRIBE Someday");
  await a.readUntil(/\* LIST \(\\NonExistent \\Subscribed\) "\/" Someday\r\n/);
  await b.cmd("UNSUBSCRIBE Someday");
  await a.readUntil(/\* LIST \(\\NonExistent\) "\/" Someday\r\n/);
  // From JMAP too (the store's change event): Mailbox/set isSubscribed.
  const jmap = Jmap.for(srv, USERS[0]!);
  const { accountId } = await jmap.session();
  const [[, got]] = await jmap.call([["Mailbox/get", { accountId, properties: ["name"] }, "g"]]);
  const listsId = got.list.find((m: { name: string }) => m.name === "Lists").id;
  const [[name]] = await jmap.call([["Mailbox/set", { accountId, update: { [listsId]: { isSubscribed: true } } }, "s"]]);
  expect(name).toBe("Mailbox/set");
  await a.readUntil(/\* LIST \(\\Subscribed\) "\/" Lists\r\n/);

  // METADATA: entry names only (RFC 5464 §4.4.2), for a mailbox and for the server.
  await b.cmd('SETMETADATA Lists (/private/comment "reading list" /shared/comment "for all")');
  await a.readUntil(/\* METADATA Lists \/private\/comment \/shared\/comment\r\n/);
  await b.cmd('SETMETADATA "" (/private/vendor/kotakpos/theme "dark")');
  await a.readUntil(/\* METADATA "" \/private\/vendor\/kotakpos\/theme\r\n/);

  // The session that made a change is not told of it.
  const own = await a.cmd("UNSUBSCRIBE Lists");
  expect(own).not.toContain("* LIST");
  expect(await a.cmd("SETMETADATA Lists (/private/comment NIL)")).not.toContain("* METADATA");
  await Bun.sleep(150);
  expect(await a.cmd("NOOP")).not.toMatch(/\* (LIST|METADATA)/);
  // Not asked for (other mailboxes, no ServerMetadataChange), or another user: nothing.
  expect(await narrow.cmd("NOOP")).not.toMatch(/\* (LIST|METADATA)/);
  expect(await bob.cmd("NOOP")).not.toMatch(/\* (LIST|METADATA)/);
  for (const c of [a, b, narrow, bob]) c.close();
});
