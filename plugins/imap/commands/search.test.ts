// SEARCH on the wire: RETURN (MIN/MAX) with MODSEQ gives the returned message's modseq
// (RFC 4731 §3.2, RFC 7162 §3.1.5); TO/CC/FROM match group names (RFC 3501 §6.4.4).
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { TestServer } from "../../../tests/helpers/server.ts";
import { deliver, rawLogin, startImap } from "../../../tests/imap/helpers.ts";

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
