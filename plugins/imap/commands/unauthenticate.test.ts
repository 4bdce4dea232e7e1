// UNAUTHENTICATE (RFC 8437) on the wire: back to not-authenticated on the same connection,
// nothing of the old session left; a second LOGIN (another user) works.
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { TestServer } from "../../../tests/helpers/server.ts";
import { rawLogin, startImap, USERS } from "../../../tests/helpers/imap.ts";

let srv: TestServer;
beforeAll(async () => {
  srv = await startImap();
});
afterAll(() => srv.cleanup());

test("UNAUTHENTICATE, then LOGIN as someone else", async () => {
  const c = await rawLogin(srv, 0);
  expect(await c.cmd("CAPABILITY")).toContain(" UNAUTHENTICATE");
  await c.cmd("ENABLE IMAP4rev2");
  await c.cmd("SELECT INBOX");
  expect(await c.cmd("UNAUTHENTICATE")).toMatch(/t\d+ OK/);
  expect(await c.cmd("SELECT INBOX")).toMatch(/t\d+ BAD/);
  expect(await c.cmd("CAPABILITY")).toContain("AUTH=PLAIN");
  expect(await c.cmd(`LOGIN ${USERS[1]!.address} ${USERS[1]!.password}`)).toMatch(/t\d+ OK/);
  // IMAP4rev2 was reset: a rev1 SELECT has RECENT.
  expect(await c.cmd("SELECT INBOX")).toContain("RECENT");
  expect(await c.cmd("UNAUTHENTICATE extra")).toMatch(/t\d+ BAD/);
  c.close();
});

test("UNAUTHENTICATE is not allowed before login", async () => {
  const c = await rawLogin(srv, 0);
  await c.cmd("UNAUTHENTICATE");
  expect(await c.cmd("UNAUTHENTICATE")).toMatch(/t\d+ BAD/);
  c.close();
});
