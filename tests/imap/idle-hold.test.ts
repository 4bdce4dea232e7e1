// IDLE holds the session's command loop instead of a pending call (plugins/imap/commands/
// idle.ts): what arrives with or after DONE is handled in order, a line other than DONE is
// refused and the session goes on, changes reach only the idling account's sessions, and
// a stop or a disabled account ends an idling session with BYE.
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { TestServer } from "../helpers/server.ts";
import { deliver, rawLogin, startImap } from "../helpers/imap.ts";

let srv: TestServer;
beforeAll(async () => {
  srv = await startImap();
});
afterAll(async () => {
  await srv.cleanup();
});

test("commands pipelined after DONE, and DONE sent with IDLE in one packet, are answered in order", async () => {
  const c = await rawLogin(srv);
  await c.cmd("SELECT INBOX");
  c.write("i1 IDLE\r\n");
  await c.readUntil(/^\+ idling\r\n/m);
  c.write("DONE\r\nn1 NOOP\r\nn2 CAPABILITY\r\n");
  const out = await c.readUntil(/^n2 OK[^\r]*\r\n/m);
  expect(out.indexOf("i1 OK IDLE terminated")).toBeGreaterThanOrEqual(0);
  expect(out.indexOf("i1 OK")).toBeLessThan(out.indexOf("n1 OK"));
  expect(out.indexOf("n1 OK")).toBeLessThan(out.indexOf("n2 OK"));
  // all at once, before the continuation request was seen
  c.write("i2 IDLE\r\nDONE\r\nn3 NOOP\r\n");
  const again = await c.readUntil(/^n3 OK[^\r]*\r\n/m);
  expect(again).toMatch(/\+ idling\r\ni2 OK IDLE terminated\r\n(.|\r\n)*n3 OK/);
  c.close();
});

test("a line other than DONE ends IDLE with BAD; the session goes on", async () => {
  const c = await rawLogin(srv);
  c.write("i1 IDLE\r\n");
  await c.readUntil(/^\+ idling\r\n/m);
  c.write("NOOP\r\n");
  expect(await c.readUntil(/^i1 [A-Z]+[^\r]*\r\n/m)).toContain("i1 BAD Expected DONE");
  expect(await c.cmd("NOOP")).toMatch(/^t\d+ OK/m);
  c.close();
});

test("IDLE with arguments is refused without idling", async () => {
  const c = await rawLogin(srv);
  c.write("i1 IDLE now\r\n");
  const r = await c.readUntil(/^i1 [A-Z]+[^\r]*\r\n/m);
  expect(r).toContain("i1 BAD");
  expect(r).not.toContain("+ idling");
  expect(await c.cmd("NOOP")).toMatch(/^t\d+ OK/m);
  c.close();
});

test("a delivery reaches the idling session of its account, not another account's", async () => {
  const alice = await rawLogin(srv, 0);
  const bob = await rawLogin(srv, 1);
  await alice.cmd("SELECT INBOX");
  await bob.cmd("SELECT INBOX");
  alice.write("i1 IDLE\r\n");
  bob.write("i2 IDLE\r\n");
  await alice.readUntil(/^\+ idling\r\n/m);
  await bob.readUntil(/^\+ idling\r\n/m);
  await deliver(srv, 0, "INBOX", "Subject: for alice\r\n\r\nhi\r\n");
  expect(await alice.readUntil(/^\* \d+ EXISTS\r\n/m)).toMatch(/EXISTS/);
  await Bun.sleep(200);
  bob.write("DONE\r\n");
  const b = await bob.readUntil(/^i2 OK[^\r]*\r\n/m);
  expect(b).not.toContain("EXISTS");
  alice.write("DONE\r\n");
  await alice.readUntil(/^i1 OK[^\r]*\r\n/m);
  alice.close();
  bob.close();
});

test("disabling the account ends its idling session with BYE; the server's stop ends the others'", async () => {
  const a = await rawLogin(srv, 0);
  const b = await rawLogin(srv, 1);
  a.write("i1 IDLE\r\n");
  b.write("i2 IDLE\r\n");
  await a.readUntil(/^\+ idling\r\n/m);
  await b.readUntil(/^\+ idling\r\n/m);
  expect(await srv.admin.setDisabled("alice@example.test", true)).toBe(true);
  expect(await a.readUntil(/^\* BYE [^\r]*\r\n/m)).toContain("BYE Account");
  const stopping = srv.stop();
  expect(await b.readUntil(/^\* BYE [^\r]*\r\n/m)).toContain("BYE Server shutting down");
  await stopping;
  a.close();
  b.close();
});
