// METADATA (RFC 5464) on the wire, after its §4 examples: SETMETADATA / GETMETADATA on a
// mailbox and the server, DEPTH and MAXSIZE, NIL removes, limits and bad names.
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { TestServer } from "../../../tests/helpers/server.ts";
import { rawLogin, startImap } from "../../../tests/helpers/imap.ts";

let srv: TestServer;
beforeAll(async () => {
  srv = await startImap();
});
afterAll(() => srv.cleanup());

test("mailbox entries: set, get, depth, maxsize, remove", async () => {
  const c = await rawLogin(srv, 0);
  expect(await c.cmd("CAPABILITY")).toMatch(/ METADATA METADATA-SERVER/);
  expect(await c.cmd('SETMETADATA INBOX (/private/comment "My own comment")')).toMatch(/t\d+ OK/);
  expect(await c.cmd("GETMETADATA INBOX /private/comment")).toContain('* METADATA INBOX (/private/comment "My own comment")\r\n');
  const v = "a longer value over the size limit";
  await c.cmd(`SETMETADATA INBOX (/shared/vendor/x/a "1" /shared/vendor/x/a/b {${v.length}+}\r\n${v})`);
  expect(await c.cmd("GETMETADATA (DEPTH 1) INBOX (/shared/vendor/x)")).toContain('* METADATA INBOX (/shared/vendor/x/a "1" /shared/vendor/x NIL)\r\n');
  expect(await c.cmd("GETMETADATA (DEPTH infinity) INBOX (/shared/vendor/x)")).toContain(`/shared/vendor/x/a/b "${v}"`);
  const ms = await c.cmd("GETMETADATA (MAXSIZE 10 DEPTH infinity) INBOX (/shared/vendor)");
  expect(ms).toContain('/shared/vendor/x/a "1"');
  expect(ms).toMatch(new RegExp(`t\\d+ OK \\[METADATA LONGENTRIES ${v.length}\\]`));
  expect(await c.cmd("SETMETADATA INBOX (/private/comment NIL)")).toMatch(/t\d+ OK/);
  expect(await c.cmd("GETMETADATA INBOX /private/comment")).toContain("* METADATA INBOX (/private/comment NIL)");
  expect(await c.cmd('SETMETADATA INBOX (/comment "x")')).toMatch(/t\d+ BAD/);
  expect(await c.cmd('SETMETADATA NoSuch (/private/comment "x")')).toMatch(/NO \[NONEXISTENT\]/);
  c.close();
});

test("server entries: /private for the user, /shared/admin from the configuration", async () => {
  const c = await rawLogin(srv, 0);
  expect(await c.cmd('SETMETADATA "" (/private/vendor/client/theme "dark")')).toMatch(/t\d+ OK/);
  const r = await c.cmd('GETMETADATA "" (/private/vendor/client/theme /shared/admin)');
  expect(r).toContain('* METADATA "" (/private/vendor/client/theme "dark" /shared/admin "mailto:postmaster@mx.example.test")');
  expect(await c.cmd('SETMETADATA "" (/shared/comment "x")')).toMatch(/NO \[NOPERM\]/);
  // Another user sees none of it.
  const b = await rawLogin(srv, 1);
  expect(await b.cmd('GETMETADATA "" /private/vendor/client/theme')).toContain("(/private/vendor/client/theme NIL)");
  b.close();
  c.close();
});
