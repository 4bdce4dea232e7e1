// SELECT/EXAMINE on the wire: IMAP4rev1 \Recent (RFC 3501 §2.3.2, §6.3.1-2, §7.3.2) —
// the first session to see a message gets it \Recent; EXAMINE shows but does not take;
// RECENT with EXISTS on NOOP; STATUS RECENT; SEARCH NEW/OLD/RECENT; IMAP4rev2 sessions
// never see \Recent.
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { TestServer } from "../../../tests/helpers/server.ts";
import { deliver, python, rawLogin, startImap, USERS } from "../../../tests/helpers/imap.ts";

let srv: TestServer;
beforeAll(async () => {
  srv = await startImap();
});
afterAll(() => srv.cleanup());

test("\\Recent goes to the first session that sees a message", async () => {
  await deliver(srv, 1, "INBOX", "Subject: r1\r\n\r\nx\r\n");
  await deliver(srv, 1, "INBOX", "Subject: r2\r\n\r\nx\r\n", ["\\Seen"]);
  const a = await rawLogin(srv, 1);
  const b = await rawLogin(srv, 1);
  // STATUS from outside: two messages no session has seen.
  expect(await b.cmd("STATUS INBOX (MESSAGES RECENT)")).toContain("* STATUS INBOX (MESSAGES 2 RECENT 2)");
  // EXAMINE shows them as recent but leaves them recent.
  const ex = await b.cmd("EXAMINE INBOX");
  expect(ex).toContain("* 2 RECENT\r\n");
  expect(await b.cmd("FETCH 1 (FLAGS)")).toContain("* 1 FETCH (FLAGS (\\Recent))");
  await b.cmd("CLOSE");
  const sel = await a.cmd("SELECT INBOX");
  expect(sel).toContain("* 2 EXISTS\r\n* 2 RECENT\r\n");
  expect(await a.cmd("FETCH 1:2 (FLAGS)")).toContain("* 2 FETCH (FLAGS (\\Seen \\Recent))");
  expect(await a.cmd("SEARCH RECENT")).toContain("* SEARCH 1 2\r\n");
  expect(await a.cmd("SEARCH NEW")).toContain("* SEARCH 1\r\n");
  expect(await a.cmd("SEARCH OLD")).toContain("* SEARCH\r\n");
  // Taken: a second SELECT sees none.
  expect(await b.cmd("SELECT INBOX")).toContain("* 0 RECENT\r\n");
  expect(await b.cmd("FETCH 1 (FLAGS)")).toContain("* 1 FETCH (FLAGS ())");
  expect(await b.cmd("SEARCH OLD")).toContain("* SEARCH 1 2\r\n");
  expect(await b.cmd("STATUS INBOX (RECENT)")).toContain("RECENT 0");
  // A new message: the first session to run a command gets it.
  await deliver(srv, 1, "INBOX", "Subject: r3\r\n\r\nx\r\n");
  expect(await b.cmd("NOOP")).toContain("* 3 EXISTS\r\n* 1 RECENT\r\n");
  expect(await a.cmd("NOOP")).toContain("* 3 EXISTS\r\n* 2 RECENT\r\n");
  expect(await b.cmd("FETCH 3 (FLAGS)")).toContain("* 3 FETCH (FLAGS (\\Recent))");
  expect(await a.cmd("FETCH 3 (FLAGS)")).toContain("* 3 FETCH (FLAGS ())");
  expect(await a.cmd("STORE 1 +FLAGS (\\Recent)")).toMatch(/BAD/);
  a.close();
  b.close();
});

test("IMAP4rev2 sessions have no \\Recent", async () => {
  await deliver(srv, 0, "INBOX", "Subject: v2\r\n\r\nx\r\n");
  const c = await rawLogin(srv, 0);
  await c.cmd("ENABLE IMAP4rev2");
  const sel = await c.cmd("SELECT INBOX");
  expect(sel).not.toContain("RECENT");
  expect(await c.cmd("FETCH 1 (FLAGS)")).toContain("* 1 FETCH (FLAGS ())");
  c.close();
});

test("imaplib: SELECT reports RECENT, the flag is on the message", async () => {
  const acct = USERS[0]!;
  await deliver(srv, 0, "INBOX", "Subject: py\r\n\r\nx\r\n");
  const out = await python(
    `
import imaplib, sys
m = imaplib.IMAP4("127.0.0.1", int(sys.argv[1]))
m.login(sys.argv[2], sys.argv[3])
typ, data = m.select("INBOX")
print("recent", m.response("RECENT")[1])
typ, data = m.search(None, "RECENT")
print("search", data)
m.logout()
`,
    [String(srv.port("imap")), acct.address, acct.password],
  );
  // The rev2 session above saw message 1 but did not take it: both are still recent.
  expect(out).toContain("recent [b'2']");
  expect(out).toContain("search [b'1 2']");
});
