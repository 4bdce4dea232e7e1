// EXPUNGE (RFC 9051 §6.4.3): the expunging session gets EXPUNGE responses at once; another
// session with the mailbox selected gets them at its next command (§7.5.1), and APPEND by
// one session shows as EXISTS in the other (§7.4.1).
import { afterAll, beforeAll, expect, test } from "bun:test";
import { startImap, twoSessions, type TestServer } from "../../../tests/helpers/imap-sessions.ts";

let s: TestServer;
beforeAll(async () => {
  s = await startImap();
});
afterAll(() => s.cleanup());

test("EXPUNGE is told to the other session at NOOP; APPEND shows there as EXISTS", async () => {
  const out = await twoSessions(
    s,
    `
for i in range(3): a.append("INBOX", None, None, msg(i))
a.select("INBOX"); b.select("INBOX")
for x in (a, b): x.untagged_responses.clear()
a.store("2", "+FLAGS.SILENT", "(\\\\Deleted)")
out["expunger"] = [x.decode() for x in a.expunge()[1] if x]
b.noop()
out["other"] = untagged(b, "EXPUNGE")
a.append("INBOX", None, None, msg(9))
b.noop()
out["exists"] = untagged(b, "EXISTS")
out["count"] = b.search(None, "ALL")[1][0].decode()
`,
  );
  expect(out).toEqual({ expunger: ["2"], other: ["2"], exists: ["3"], count: "1 2 3" });
});
