// FETCH on the wire: BINARY literal8 for NUL-carrying parts (RFC 3516 §4.2), quoted-printable
// decoding by RFC 2045 §6.7 (BINARY.SIZE), no NUL in plain literals, and CONDSTORE's
// HIGHESTMODSEQ announcement on the first CONDSTORE-enabling command (RFC 7162 §3.1).
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { TestServer } from "../../../tests/helpers/server.ts";
import { deliver, rawLogin, startImap } from "../../../tests/helpers/imap.ts";

let srv: TestServer;
beforeAll(async () => {
  srv = await startImap();
  await deliver(
    srv,
    0,
    "INBOX",
    'Subject: bin\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: binary\r\n\r\nab\x00cd\r\n--b\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nline one  \t\r\nsoft= \t\r\nbreak=3D\r\n--b--\r\n',
  );
  await deliver(srv, 0, "INBOX", "Subject: two\r\n\r\nx\r\n");
});
afterAll(() => srv.cleanup());

test("BINARY of a binary part with NUL is a literal8; BODY carries no NUL", async () => {
  const c = await rawLogin(srv, 0);
  await c.cmd("SELECT INBOX");
  const r = await c.cmd("FETCH 1 (BINARY.PEEK[1] BINARY.SIZE[1])");
  expect(r).toContain("BINARY[1] ~{5}\r\nab\x00cd");
  expect(r).toContain("BINARY.SIZE[1] 5");
  const b = await c.cmd("FETCH 1 (BODY.PEEK[1])");
  expect(b).toContain("BODY[1] {5}\r\nab\x80cd");
  expect(b).not.toContain("\x00");
  c.close();
});

test("quoted-printable: trailing whitespace dropped, '=' + whitespace + CRLF is a soft break", async () => {
  const c = await rawLogin(srv, 0);
  await c.cmd("SELECT INBOX");
  const r = await c.cmd("FETCH 1 (BINARY.SIZE[2] BINARY.PEEK[2])");
  // (The CRLF before the boundary belongs to the boundary, RFC 2046 §5.1.1.)
  const decoded = "line one\r\nsoftbreak=";
  expect(r).toContain(`BINARY.SIZE[2] ${decoded.length}`);
  expect(r).toContain(`BINARY[2] {${decoded.length}}\r\n${decoded}`);
  c.close();
});

test("the first CONDSTORE-enabling command announces HIGHESTMODSEQ", async () => {
  const c = await rawLogin(srv, 0);
  await c.cmd("SELECT INBOX");
  const r = await c.cmd("FETCH 1 (FLAGS MODSEQ)");
  const m = /\* OK \[HIGHESTMODSEQ (\d+)\][^\r]*\r\n\* 1 FETCH \(FLAGS \([^)]*\) MODSEQ \((\d+)\)\)/.exec(r);
  expect(m).not.toBeNull();
  expect(Number(m![1])).toBeGreaterThanOrEqual(Number(m![2]));
  // Once only.
  expect(await c.cmd("FETCH 1 (MODSEQ)")).not.toContain("HIGHESTMODSEQ");
  c.close();
  // Also by CHANGEDSINCE, and by a MODSEQ search criterion, in fresh sessions.
  const d = await rawLogin(srv, 0);
  await d.cmd("EXAMINE INBOX");
  expect(await d.cmd("FETCH 1:* (FLAGS) (CHANGEDSINCE 1)")).toMatch(/\* OK \[HIGHESTMODSEQ \d+\]/);
  d.close();
  const e = await rawLogin(srv, 0);
  await e.cmd("EXAMINE INBOX");
  expect(await e.cmd("SEARCH MODSEQ 1")).toMatch(/\* OK \[HIGHESTMODSEQ \d+\][^\r]*\r\n\* SEARCH 1 2 \(MODSEQ \d+\)/);
  e.close();
});

test("ENVELOPE of group syntax: only the group markers", async () => {
  await deliver(srv, 0, "INBOX", "Subject: grp\r\nFrom: a@example.test\r\nCc: group:;, group2: (comment) ;\r\n\r\nx\r\n");
  const c = await rawLogin(srv, 0);
  await c.cmd("SELECT INBOX");
  const r = await c.cmd("FETCH 3 (ENVELOPE)");
  expect(r).toContain('((NIL NIL "group" NIL)(NIL NIL NIL NIL)(NIL NIL "group2" NIL)(NIL NIL NIL NIL))');
  c.close();
});

test("SAVEDATE (RFC 8514): when the message was saved here, not its INTERNALDATE", async () => {
  const c = await rawLogin(srv, 0);
  const m = "Subject: old\r\n\r\nx\r\n";
  await c.cmd(`APPEND INBOX " 1-Jan-2001 10:00:00 +0000" {${m.length}+}\r\n${m}`);
  await c.cmd("SELECT INBOX");
  const today = new Date();
  const day = `${today.getUTCDate()}-${["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"][today.getUTCMonth()]}-${today.getUTCFullYear()}`;
  const r = await c.cmd("FETCH 4 (INTERNALDATE SAVEDATE)");
  expect(r).toMatch(/INTERNALDATE "01-Jan-2001 10:00:00 \+0000" SAVEDATE "\d\d-[A-Z][a-z]{2}-\d{4} \d\d:\d\d:\d\d \+0000"/);
  expect(await c.cmd(`SEARCH SAVEDON ${day}`)).toContain("* SEARCH 1 2 3 4\r\n");
  expect(await c.cmd("SEARCH SAVEDBEFORE 1-Jan-2002")).toContain("* SEARCH\r\n");
  expect(await c.cmd("SEARCH SAVEDATESUPPORTED")).toContain("* SEARCH 1 2 3 4\r\n");
  expect(await c.cmd("SEARCH BEFORE 1-Jan-2002")).toContain("* SEARCH 4\r\n");
  // A copy keeps INTERNALDATE and is saved today.
  await c.cmd("COPY 4 Archive");
  await c.cmd("EXAMINE Archive");
  expect(await c.cmd(`SEARCH SAVEDON ${day} BEFORE 1-Jan-2002`)).toContain("* SEARCH 1\r\n");
  c.close();
});
