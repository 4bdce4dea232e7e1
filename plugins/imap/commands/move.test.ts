// MOVE (RFC 6851 §3.3): the moving session gets COPYUID and EXPUNGE; another session with
// the source selected is told of the expunge at its next command (RFC 9051 §7.5.1), one
// with the target selected sees the new message as EXISTS (§7.4.1).
import { afterAll, beforeAll, expect, test } from "bun:test";
import { startImap, twoSessions, type TestServer } from "../../../tests/helpers/imap-sessions.ts";
import { deliver, rawLogin } from "../../../tests/helpers/imap.ts";

let s: TestServer;
beforeAll(async () => {
  s = await startImap();
});
afterAll(() => s.cleanup());

test("UID MOVE: COPYUID to the mover; EXPUNGE to a second session on the source, EXISTS to one on the target", async () => {
  const out = await twoSessions(
    s,
    `
a.create("Moved")
for i in range(3): a.append("INBOX", None, None, msg(i))
a.select("INBOX"); b.select("INBOX"); c.select("Moved")
for x in (a, b, c): x.untagged_responses.clear()
typ, data = a.uid("MOVE", "2", "Moved")
out["mover"] = [typ, untagged(a, "EXPUNGE"), a.untagged_responses.get("OK", [b""])[-1].decode()]
b.noop(); c.noop()
out["source"] = untagged(b, "EXPUNGE")
out["target"] = untagged(c, "EXISTS")
out["left"] = a.uid("SEARCH", "ALL")[1][0].decode()
`,
  );
  const o = out as { mover: [string, string[], string]; source: string[]; target: string[]; left: string };
  expect(o.mover[0]).toBe("OK");
  expect(o.mover[1]).toEqual(["2"]);
  expect(o.mover[2]).toMatch(/COPYUID \d+ 2 1/);
  expect(o.source).toEqual(["2"]);
  expect(o.target).toEqual(["1"]);
  expect(o.left).toBe("1 3");
});

// MOVE into the selected mailbox itself (RFC 6851 does not forbid it): COPYUID with the new
// UIDs, EXPUNGE of the old ones, EXISTS for the new ones; another session sees the same.
let srv: TestServer;
beforeAll(async () => {
  srv = await startImap();
  for (let i = 1; i <= 3; i++) await deliver(srv, 0, "INBOX", `Subject: m${i}\r\n\r\nx\r\n`, ["\\Seen"]);
});
afterAll(() => srv.cleanup());

test("UID MOVE into the same mailbox: new UIDs, old ones expunged", async () => {
  const a = await rawLogin(srv, 0);
  const b = await rawLogin(srv, 0);
  await a.cmd("SELECT INBOX");
  await b.cmd("SELECT INBOX");
  const r = await a.cmd("UID MOVE 1:2 INBOX");
  expect(r).toMatch(/\* OK \[COPYUID \d+ 1:2 4:5\][^\r]*\r\n\* 2 EXPUNGE\r\n\* 1 EXPUNGE\r\n(\* 3 EXISTS\r\n)?/);
  expect(r).toMatch(/t\d+ OK /);
  const all = r + (await a.cmd("NOOP"));
  expect(all).toContain("* 3 EXISTS");
  expect(await a.cmd("UID FETCH 1:* (UID)")).toMatch(/\* 1 FETCH \(UID 3\)\r\n\* 2 FETCH \(UID 4\)\r\n\* 3 FETCH \(UID 5\)\r\n/);
  const n = await b.cmd("NOOP");
  expect(n).toContain("* 2 EXPUNGE\r\n* 1 EXPUNGE\r\n");
  expect(n).toContain("* 3 EXISTS\r\n");
  a.close();
  b.close();
});
