// URLAUTH (RFC 4467) on the wire, after its §7 examples: GENURLAUTH gives an INTERNAL
// token; URLFETCH returns the part to the user the access identifier names, NIL to others
// and after RESETKEY or expiry.
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { TestServer } from "../../../tests/helpers/server.ts";
import { deliver, rawLogin, startImap } from "../../../tests/helpers/imap.ts";

let srv: TestServer;
beforeAll(async () => {
  srv = await startImap();
  await deliver(srv, 0, "INBOX", 'Subject: u\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\npart one text\r\n--b--\r\n');
});
afterAll(() => srv.cleanup());

const base = "imap://alice%40example.test@mx.example.test/INBOX/;uid=1/;section=1";

test("GENURLAUTH then URLFETCH by the user it names; others get NIL; RESETKEY revokes", async () => {
  const a = await rawLogin(srv, 0);
  const b = await rawLogin(srv, 1);
  expect(await a.cmd("CAPABILITY")).toContain(" URLAUTH");
  const g = await a.cmd(`GENURLAUTH "${base};urlauth=user+bob%40example.test" INTERNAL`);
  const url = /\* GENURLAUTH "([^"]+)"/.exec(g)![1]!;
  expect(url).toMatch(/^imap:.*;urlauth=user\+bob%40example\.test:internal:[0-9a-f]{64}$/);
  expect(await b.cmd(`URLFETCH "${url}"`)).toContain(`* URLFETCH "${url}" {13}\r\npart one text`);
  // The owner is not bob: NIL. A changed token: NIL.
  expect(await a.cmd(`URLFETCH "${url}"`)).toContain(`* URLFETCH "${url}" NIL`);
  const forged = url.slice(0, -4) + "0000";
  expect(await b.cmd(`URLFETCH "${forged}"`)).toContain("NIL");
  // authuser: anyone logged in; an expired one: nobody.
  const au = /"([^"]+)"/.exec(await a.cmd(`GENURLAUTH "${base};urlauth=authuser" INTERNAL`))![1]!;
  expect(await b.cmd(`URLFETCH "${au}"`)).toContain("{13}\r\npart one text");
  const ex = /"([^"]+)"/.exec(await a.cmd(`GENURLAUTH "${base};expire=2001-01-01T00:00:00Z;urlauth=authuser" INTERNAL`))![1]!;
  expect(await b.cmd(`URLFETCH "${ex}"`)).toContain("NIL");
  expect(await a.cmd("RESETKEY INBOX")).toMatch(/t\d+ OK/);
  expect(await b.cmd(`URLFETCH "${url}"`)).toContain("NIL");
  // Someone else's URL cannot be authorized; a non-INTERNAL mechanism is refused.
  expect(await b.cmd(`GENURLAUTH "${base};urlauth=anonymous" INTERNAL`)).toMatch(/NO \[BADURL/);
  expect(await a.cmd(`GENURLAUTH "${base};urlauth=anonymous" XSHA`)).toMatch(/NO \[BADURL/);
  a.close();
  b.close();
});
