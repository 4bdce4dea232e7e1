// BURL (RFC 4468) on the wire, after its §7 example: the user saves a draft over IMAP,
// GENURLAUTHs a "submit+user" URL for it (RFC 4467), and Python's smtplib submits it with
// "BURL <url> LAST" — the recipient's imaplib reads the same bytes. BURL mixes with BDAT;
// URLs the submission may not use (another access identifier, a bad token, after
// RESETKEY, before AUTH) get the RFC's errors and deliver nothing.
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { TestServer } from "../../tests/helpers/server.ts";
import { python, rawLogin, startImap } from "../../tests/helpers/imap.ts";

let srv: TestServer;
beforeAll(async () => {
  srv = await startImap();
});
afterAll(() => srv.cleanup());

const DRAFT = "From: alice@example.test\r\nTo: bob@example.test\r\nSubject: burl draft\r\n\r\nBody fetched by the submission server.\r\n";

/** A draft in alice's Drafts and URLAUTH URLs for it, one per access identifier. */
async function draftUrls(access: string[]): Promise<{ urls: string[]; imap: Awaited<ReturnType<typeof rawLogin>> }> {
  const a = await rawLogin(srv, 0);
  const ap = await a.cmd(`APPEND Drafts (\\Draft) {${DRAFT.length}+}\r\n${DRAFT}`);
  const [, uidvalidity, uid] = /APPENDUID (\d+) (\d+)/.exec(ap)!;
  const urls: string[] = [];
  for (const x of access) {
    const g = await a.cmd(`GENURLAUTH "imap://alice%40example.test@mx.example.test/Drafts;uidvalidity=${uidvalidity}/;uid=${uid}${x}" INTERNAL`);
    urls.push(/\* GENURLAUTH "([^"]+)"/.exec(g)![1]!);
  }
  return { urls, imap: a };
}

const SCRIPT = `
import smtplib, imaplib, sys, json, time
port, iport, url, url_user, url_text = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
out = {}
s = smtplib.SMTP("127.0.0.1", port)
s.ehlo("client.example.test")
out["ehlo_burl"] = s.esmtp_features.get("burl")
s.mail("alice@example.test")
s.rcpt("bob@example.test")
out["before_auth"] = s.docmd("BURL", url + " LAST")[0]
s.rset()
s.login("alice@example.test", "alice-pw-1")
s.mail("alice@example.test")
s.rcpt("bob@example.test")
code, msg = s.docmd("BURL", url + " LAST")
out["burl"] = [code, msg.decode()]
# A URL for another access identifier ("user+") is not for a submission server.
s.mail("alice@example.test")
s.rcpt("bob@example.test")
code, msg = s.docmd("BURL", url_user + " LAST")
out["burl_user"] = [code, msg.decode()]
# BDAT with new headers, then BURL of the draft's text (RFC 4468 §3: they mix).
s.mail("alice@example.test")
s.rcpt("bob@example.test")
head = b"From: alice@example.test\\r\\nTo: bob@example.test\\r\\nSubject: mixed\\r\\n\\r\\n"
s.send(b"BDAT %d\\r\\n" % len(head) + head)
out["bdat"] = s.getreply()[0]
code, msg = s.docmd("BURL", url_text + " LAST")
out["burl_text"] = code
s.mail("alice@example.test")
s.rcpt("bob@example.test")
out["tampered"] = s.docmd("BURL", url[:-4] + "0000 LAST")[0]
s.mail("alice@example.test")
s.rcpt("bob@example.test")
out["syntax"] = s.docmd("BURL", "")[0]
s.quit()
m = imaplib.IMAP4("127.0.0.1", iport)
m.login("bob@example.test", "bob-pw-2")
m.select("INBOX")
for _ in range(50):
    typ, data = m.search(None, "ALL")
    if len(data[0].split()) >= 2: break
    time.sleep(0.1)
    m.noop()
typ, data = m.fetch("1:*", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)] BODY.PEEK[TEXT])")
out["bob"] = [x[1].decode() for x in data if isinstance(x, tuple)]
m.logout()
print(json.dumps(out))
`;

test("BURL LAST submits a draft named by a submit+ URLAUTH URL; BDAT + BURL; refusals", async () => {
  const { urls, imap } = await draftUrls([";urlauth=submit+alice%40example.test", ";urlauth=user+alice%40example.test", "/;section=TEXT;urlauth=submit+alice%40example.test"]);
  const out = JSON.parse(await python(SCRIPT, [String(srv.port("submission")), String(srv.port("imap")), urls[0]!, urls[1]!, urls[2]!], 30_000));
  expect(out.ehlo_burl).toBe("imap");
  expect(out.before_auth).toBe(530);
  expect(out.burl[0]).toBe(250);
  expect(out.burl[1]).toMatch(/^2\.0\.0 OK queued as /);
  expect(out.burl_user).toEqual([554, "5.6.6 IMAP URL resolution failed"]);
  expect(out.bdat).toBe(250);
  expect(out.burl_text).toBe(250);
  expect(out.tampered).toBe(554);
  expect(out.syntax).toBe(501);
  // Bob has both messages: the draft as saved, and the BDAT headers with the draft's text.
  expect(out.bob.length).toBe(4);
  expect(out.bob[0]).toBe("Subject: burl draft\r\n\r\n");
  expect(out.bob[1]).toBe("Body fetched by the submission server.\r\n");
  expect(out.bob[2]).toBe("Subject: mixed\r\n\r\n");
  expect(out.bob[3]).toBe("Body fetched by the submission server.\r\n");
  // RESETKEY revokes: the same URL no longer resolves.
  expect(await imap.cmd("RESETKEY Drafts")).toMatch(/t\d+ OK/);
  const after = await python(
    `import smtplib, sys
s = smtplib.SMTP("127.0.0.1", int(sys.argv[1]))
s.ehlo("c"); s.login("alice@example.test", "alice-pw-1"); s.mail("alice@example.test"); s.rcpt("bob@example.test")
print(s.docmd("BURL", sys.argv[2] + " LAST")[0])`,
    [String(srv.port("submission")), urls[0]!],
  );
  expect(after.trim()).toBe("554");
  imap.close();
}, 60_000); // two Python clients and a delivery: more than the default 5 s under load
