// STORE on the wire: a keyword new to the mailbox is announced by FLAGS and PERMANENTFLAGS
// before any FETCH shows it (RFC 9051 §7.3.5, RFC 3501 §7.2.6), in this session and in
// another session that has the mailbox selected.
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { TestServer } from "../../../tests/helpers/server.ts";
import { deliver, rawLogin, startImap } from "../../../tests/imap/helpers.ts";

let srv: TestServer;
beforeAll(async () => {
  srv = await startImap();
  await deliver(srv, 0, "INBOX", "Subject: one\r\n\r\nbody\r\n");
  await deliver(srv, 0, "INBOX", "Subject: two\r\n\r\nbody\r\n");
});
afterAll(() => srv.cleanup());

test("a new keyword is announced by FLAGS before FETCH, in both sessions", async () => {
  const a = await rawLogin(srv, 0);
  const b = await rawLogin(srv, 0);
  expect(await a.cmd("SELECT INBOX")).toContain("* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n");
  await b.cmd("SELECT INBOX");
  const r = await a.cmd("STORE 1 +FLAGS ($keyword1)");
  const flagsAt = r.indexOf("* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $keyword1)\r\n");
  const permAt = r.indexOf("* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $keyword1 \\*)]");
  // (\Recent too: this session was the first to see the message, RFC 3501 §2.3.2.)
  const fetchAt = r.indexOf("* 1 FETCH (UID 1 FLAGS ($keyword1 \\Recent))");
  expect(flagsAt).toBeGreaterThanOrEqual(0);
  expect(permAt).toBeGreaterThan(flagsAt);
  expect(fetchAt).toBeGreaterThan(permAt);
  // Told once: the next FETCH of that keyword needs no new FLAGS.
  expect(await a.cmd("FETCH 1 (FLAGS)")).not.toContain("* FLAGS");
  // The other session learns of it on its next command, FLAGS first.
  const n = await b.cmd("NOOP");
  expect(n).toMatch(/\* FLAGS \([^)]*\$keyword1\)\r\n\* OK \[PERMANENTFLAGS [^\r]*\r\n\* 1 FETCH \(UID 1 FLAGS \(\$keyword1\)\)/);
  a.close();
  b.close();
});

test("a COPY bringing a keyword into another selected mailbox announces it before FETCH", async () => {
  const a = await rawLogin(srv, 0);
  const b = await rawLogin(srv, 0);
  await a.cmd("CREATE Kw");
  await b.cmd("SELECT Kw");
  await a.cmd("SELECT INBOX");
  await a.cmd("STORE 2 +FLAGS ($copied)");
  expect(await a.cmd("COPY 2 Kw")).toContain("OK [COPYUID");
  expect(await b.cmd("NOOP")).toContain("* 1 EXISTS");
  const f = await b.cmd("FETCH 1 (FLAGS)");
  expect(f).toMatch(/\* FLAGS \([^)]*\$copied[^)]*\)\r\n\* OK \[PERMANENTFLAGS[^\r]*\r\n\* 1 FETCH \(FLAGS \([^)]*\$copied/);
  a.close();
  b.close();
});
