// SEARCH on the wire: RETURN (MIN/MAX) with MODSEQ gives the returned message's modseq
// (RFC 4731 §3.2, RFC 7162 §3.1.5); TO/CC/FROM match group names (RFC 3501 §6.4.4).
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { TestServer } from "../../../tests/helpers/server.ts";
import { deliver, rawLogin, startImap } from "../../../tests/helpers/imap.ts";

let srv: TestServer;
beforeAll(async () => {
  srv = await startImap();
  for (let i = 1; i <= 3; i++) await deliver(srv, 0, "INBOX", `Subject: m${i}\r\nCc: group:;, group2: (comment) ;\r\n\r\nx\r\n`);
});
afterAll(() => srv.cleanup());

test("RETURN (MIN) / (MAX) with MODSEQ: the modseq of that message", async () => {
  const c = await rawLogin(srv, 0);
  await c.cmd("SELECT INBOX");
  // Message 2 gets the highest modseq, message 1 the next.
  await c.cmd("STORE 1 +FLAGS (\\Flagged)");
  await c.cmd("STORE 2 +FLAGS (\\Flagged)");
  const f = await c.cmd("FETCH 1:3 (MODSEQ)");
  const mod = [...f.matchAll(/\* (\d) FETCH \(MODSEQ \((\d+)\)\)/g)].reduce((m, x) => m.set(Number(x[1]), Number(x[2])), new Map<number, number>());
  expect(await c.cmd("SEARCH RETURN (MIN) MODSEQ 1")).toMatch(new RegExp(`ESEARCH \\(TAG "t\\d+"\\) MIN 1 MODSEQ ${mod.get(1)}\\r\\n`));
  expect(await c.cmd("SEARCH RETURN (MAX) MODSEQ 1")).toMatch(new RegExp(`ESEARCH \\(TAG "t\\d+"\\) MAX 3 MODSEQ ${mod.get(3)}\\r\\n`));
  expect(await c.cmd("SEARCH RETURN (MIN MAX) MODSEQ 1")).toMatch(new RegExp(`MIN 1 MAX 3 MODSEQ ${Math.max(mod.get(1)!, mod.get(3)!)}\\r\\n`));
  expect(await c.cmd("SEARCH RETURN (COUNT MIN) MODSEQ 1")).toMatch(new RegExp(`MIN 1 COUNT 3 MODSEQ ${mod.get(2)}\\r\\n`));
  c.close();
});

test("SEARCH CC matches a group name", async () => {
  const c = await rawLogin(srv, 0);
  await c.cmd("SELECT INBOX");
  expect(await c.cmd("SEARCH CC group2")).toContain("* SEARCH 1 2 3\r\n");
  expect(await c.cmd("SEARCH CC comment")).toContain("* SEARCH\r\n");
  c.close();
});

test("PARTIAL (RFC 9394): a window of the result, from the start or the end", async () => {
  const c = await rawLogin(srv, 0);
  await c.cmd("SELECT INBOX");
  expect(await c.cmd("UID SEARCH RETURN (PARTIAL 1:2) ALL")).toMatch(/\* ESEARCH \(TAG "t\d+"\) UID PARTIAL \(1:2 1:2\)\r\n/);
  expect(await c.cmd("SEARCH RETURN (PARTIAL -1:-2) ALL")).toMatch(/\* ESEARCH \(TAG "t\d+"\) PARTIAL \(-1:-2 2:3\)\r\n/);
  expect(await c.cmd("SEARCH RETURN (COUNT PARTIAL 5:9) ALL")).toMatch(/COUNT 3 PARTIAL \(5:9 NIL\)\r\n/);
  expect(await c.cmd("SEARCH RETURN (PARTIAL 0:3) ALL")).toMatch(/t\d+ BAD/);
  expect(await c.cmd("SEARCH RETURN (PARTIAL 1:3 ALL) ALL")).toMatch(/t\d+ BAD/);
  c.close();
});

test("CONTEXT=SEARCH: ADDTO and REMOVEFROM as another session changes flags; CANCELUPDATE", async () => {
  const a = await rawLogin(srv, 0);
  const b = await rawLogin(srv, 0);
  await a.cmd("SELECT INBOX");
  await b.cmd("SELECT INBOX");
  await b.cmd("STORE 1:3 -FLAGS (\\Seen)");
  await a.cmd("NOOP");
  const r = await a.cmd("UID SEARCH RETURN (UPDATE) UNSEEN");
  const tag = /ESEARCH \(TAG "(t\d+)"\) UID ALL 1:3/.exec(r)![1];
  await b.cmd("STORE 2 +FLAGS (\\Seen)");
  expect(await a.cmd("NOOP")).toContain(`* ESEARCH (TAG "${tag}") UID REMOVEFROM (0 2)\r\n`);
  await b.cmd("STORE 2 -FLAGS (\\Seen)");
  expect(await a.cmd("NOOP")).toContain(`* ESEARCH (TAG "${tag}") UID ADDTO (0 2)\r\n`);
  // Pushed while idling too.
  a.write("i1 IDLE\r\n");
  await a.readUntil(/^\+ .*\r\n/m);
  await b.cmd("STORE 1 +FLAGS (\\Seen)");
  expect(await a.readUntil(/REMOVEFROM \(0 1\)\r\n/)).toContain(`* ESEARCH (TAG "${tag}") UID REMOVEFROM (0 1)`);
  a.write("DONE\r\n");
  await a.readUntil(/^i1 OK.*\r\n/m);
  expect(await a.cmd(`CANCELUPDATE "${tag}"`)).toMatch(/OK/);
  await b.cmd("STORE 3 +FLAGS (\\Seen)");
  expect(await a.cmd("NOOP")).not.toContain("ESEARCH");
  expect(await a.cmd(`CANCELUPDATE "${tag}"`)).toMatch(/BAD/);
  a.close();
  b.close();
});

test("SUBJECT and FROM match case-insensitively, again and again on the same (cached) messages", async () => {
  await deliver(srv, 0, "INBOX", "From: Zoe Quill <ZQ@Example.test>\r\nSubject: Quarterly REPORT\r\n\r\nx\r\n");
  const c = await rawLogin(srv, 0);
  await c.cmd("SELECT INBOX");
  for (const q of ["SUBJECT report", "SUBJECT Quarterly", "FROM zq@example", "FROM QUILL", "OR SUBJECT nothing FROM zoe"]) {
    expect(await c.cmd(`SEARCH ${q}`)).toContain("* SEARCH 4\r\n");
  }
  expect(await c.cmd("SEARCH SUBJECT reports")).toContain("* SEARCH\r\n");
  c.close();
});
