// STORE (RFC 9051 §6.4.6): a flag change made by one session reaches another session with
// the mailbox selected as an untagged FETCH with the new FLAGS at its next command (§7.5.2).
import { afterAll, beforeAll, expect, test } from "bun:test";
import { startImap, twoSessions, type TestServer } from "../../../tests/helpers/imap-sessions.ts";
import { deliver, rawLogin } from "../../../tests/helpers/imap.ts";

let s: TestServer;
beforeAll(async () => {
  s = await startImap();
});
afterAll(() => s.cleanup());

test("UID STORE +FLAGS: the storer gets FETCH FLAGS, a second session sees it at NOOP; .SILENT tells only the others", async () => {
  const out = await twoSessions(
    s,
    `
for i in range(2): a.append("INBOX", None, None, msg(i))
a.select("INBOX"); b.select("INBOX")
for x in (a, b): x.untagged_responses.clear()
# imaplib hands the FETCH responses of a UID command back as its result.
out["storer"] = [x.decode() for x in a.uid("STORE", "1", "+FLAGS", "(\\\\Flagged)")[1] if x]
b.noop()
out["other"] = untagged(b, "FETCH")
out["silent"] = [x.decode() for x in a.uid("STORE", "2", "+FLAGS.SILENT", "(\\\\Seen)")[1] if x]
b.noop()
out["other2"] = untagged(b, "FETCH")
`,
  );
  const o = out as Record<string, string[]>;
  // a selected first, so the new messages are \Recent to a only (RFC 3501 §2.3.2).
  expect(o.storer.join(" ")).toMatch(/^1 \(.*FLAGS \(\\Flagged \\Recent\)/);
  expect(o.other.join(" ")).toMatch(/^1 \(.*FLAGS \(\\Flagged\)/);
  expect(o.silent).toEqual([]);
  expect(o.other2.join(" ")).toMatch(/^2 \(.*FLAGS \(\\Seen\)/);
});

// STORE on the wire: a keyword new to the mailbox is announced by FLAGS and PERMANENTFLAGS
// before any FETCH shows it (RFC 9051 §7.3.5, RFC 3501 §7.2.6), in this session and in
// another session that has the mailbox selected.
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

test("a STORE that changes nothing still answers each message's current flags (RFC 9051 §6.4.6)", async () => {
  const a = await rawLogin(srv, 0);
  await a.cmd("ENABLE IMAP4rev2");
  await a.cmd("SELECT INBOX");
  await a.cmd("STORE 1:2 +FLAGS (\\Seen)");
  // Message 2 loses \Flagged it never had; message 1 gains \Seen it has: neither changes.
  const r = await a.cmd("STORE 1:2 -FLAGS (\\Flagged)");
  expect(r).toMatch(/\* 1 FETCH \(UID 1 FLAGS \(\\Seen \$keyword1\)\)\r\n\* 2 FETCH \(UID 2 FLAGS \(\\Seen \$copied\)\)\r\n/);
  expect(await a.cmd("STORE 1 +FLAGS (\\Seen)")).toMatch(/\* 1 FETCH \(UID 1 FLAGS \(\\Seen \$keyword1\)\)\r\n/);
  a.close();
});
