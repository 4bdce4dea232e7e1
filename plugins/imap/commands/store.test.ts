// STORE (RFC 9051 §6.4.6): a flag change made by one session reaches another session with
// the mailbox selected as an untagged FETCH with the new FLAGS at its next command (§7.5.2).
import { afterAll, beforeAll, expect, test } from "bun:test";
import { startImap, twoSessions, type TestServer } from "../../../tests/helpers/imap-sessions.ts";

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
  expect(o.storer.join(" ")).toMatch(/^1 \(.*FLAGS \(\\Flagged\)/);
  expect(o.other.join(" ")).toMatch(/^1 \(.*FLAGS \(\\Flagged\)/);
  expect(o.silent).toEqual([]);
  expect(o.other2.join(" ")).toMatch(/^2 \(.*FLAGS \(\\Seen\)/);
});
