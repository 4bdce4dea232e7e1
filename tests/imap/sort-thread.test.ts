// SORT and THREAD (RFC 5256) on the wire, over a small conversation.
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { TestServer } from "../helpers/server.ts";
import { RawClient, startImap, USERS } from "../helpers/imap.ts";

let srv: TestServer;
let c: RawClient;
const MSGS: [string, string, string, string][] = [
  // subject, message-id, threading header, date
  ["Hello", "<a@x>", "", "Wed, 1 Jan 2020 10:00:00 +0000"],
  ["Re: Hello", "<b@x>", "In-Reply-To: <a@x>", "Thu, 2 Jan 2020 10:00:00 +0000"],
  ["Other", "<c@x>", "", "Fri, 3 Jan 2020 10:00:00 +0000"],
  ["Re: Re: Hello", "<d@x>", "References: <a@x>\r\n <b@x>", "Sat, 4 Jan 2020 10:00:00 +0000"],
  ["Re: Hello", "<e@x>", "References: <a@x>", "Sun, 5 Jan 2020 10:00:00 +0000"],
  ["Fwd: Other", "<f@x>", "References: <missing@x>", "Mon, 6 Jan 2020 10:00:00 +0000"],
];
beforeAll(async () => {
  srv = await startImap();
  const store = srv.core.store;
  const acct = (await store.getAccount(USERS[0]!.address))!;
  const inbox = (await store.getMailbox(acct.id, "INBOX"))!;
  for (const [i, [subject, id, hdr, date]] of MSGS.entries()) {
    const from = `${String.fromCharCode(102 - i)}@example.test`; // f@, e@, d@ … : reverse order
    const raw = `From: ${from}\r\nSubject: ${subject}\r\nMessage-ID: ${id}\r\n${hdr ? hdr + "\r\n" : ""}Date: ${date}\r\n\r\nbody ${i}\r\n`;
    await store.append(inbox.id, new TextEncoder().encode(raw), { internalDate: Date.UTC(2021, 0, 10 - i) });
  }
  c = await RawClient.connect(srv.port("imap"));
  await c.cmd(`LOGIN ${USERS[0]!.address} ${USERS[0]!.password}`);
  await c.cmd("SELECT INBOX");
});
afterAll(async () => {
  c.close();
  await srv.cleanup();
});

test("SORT by subject, date, arrival, from, with REVERSE and search keys", async () => {
  expect(await c.cmd("CAPABILITY")).toContain("THREAD=REFERENCES");
  expect(await c.cmd("SORT (SUBJECT) UTF-8 ALL")).toContain("* SORT 1 2 4 5 3 6\r\n");
  expect(await c.cmd("SORT (REVERSE DATE) UTF-8 ALL")).toContain("* SORT 6 5 4 3 2 1\r\n");
  expect(await c.cmd("SORT (ARRIVAL) UTF-8 ALL")).toContain("* SORT 6 5 4 3 2 1\r\n");
  expect(await c.cmd("SORT (FROM) UTF-8 ALL")).toContain("* SORT 6 5 4 3 2 1\r\n");
  expect(await c.cmd("UID SORT (SUBJECT REVERSE DATE) UTF-8 SUBJECT hello")).toContain("* SORT 5 4 2 1\r\n");
  expect(await c.cmd("SORT (SIZE) KOI8-R ALL")).toMatch(/NO \[BADCHARSET/);
  expect(await c.cmd("SORT (FROB) UTF-8 ALL")).toMatch(/BAD/);
});

test("THREAD REFERENCES and ORDEREDSUBJECT", async () => {
  expect(await c.cmd("THREAD REFERENCES UTF-8 ALL")).toContain("* THREAD (1 (2 4)(5))(3 6)\r\n");
  expect(await c.cmd("THREAD ORDEREDSUBJECT UTF-8 ALL")).toContain("* THREAD (1 (2)(4)(5))(3 6)\r\n");
  expect(await c.cmd("UID THREAD REFERENCES UTF-8 SUBJECT other")).toContain("* THREAD (3 6)\r\n");
  expect(await c.cmd("THREAD REFERENCES UTF-8 SUBJECT nothing")).toContain("* THREAD\r\n");
  expect(await c.cmd("THREAD FROB UTF-8 ALL")).toMatch(/BAD/);
});
