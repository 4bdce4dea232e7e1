// OBJECTID (RFC 8474) on the wire with Python's imaplib and imapflow, checked against what
// JMAP says about the same mailbox, email and thread: one id scheme for both protocols.
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { TestServer } from "../../tests/helpers/server.ts";
import { deliver, python, rawLogin, startImap, USERS } from "../../tests/helpers/imap.ts";
import { Jmap } from "../../tests/jmap/helpers.ts";
import { ImapFlow } from "imapflow";

let srv: TestServer;
beforeAll(async () => {
  srv = await startImap();
});
afterAll(() => srv.cleanup());

const SCRIPT = `
import imaplib, sys, re, json
m = imaplib.IMAP4("127.0.0.1", int(sys.argv[1]))
m.login(sys.argv[2], sys.argv[3])
out = {"caps": list(m.capabilities)}
typ, data = m.create("Projects")
out["create"] = [typ, [x.decode() for x in m.untagged_responses.pop("MAILBOXID", [])], data[0].decode()]
typ, data = m.status("Projects", "(MESSAGES MAILBOXID)")
out["status"] = data[0].decode()
typ, data = m.select("INBOX")
out["select_mailboxid"] = [x.decode() for x in m.untagged_responses.get("MAILBOXID", [])]
typ, data = m.fetch("1:*", "(UID EMAILID THREADID)")
out["fetch"] = [d.decode() for d in data]
eid = re.search(rb"EMAILID \\(([^)\\s]+)\\)", data[0]).group(1).decode()
tid = re.search(rb"THREADID \\(([^)\\s]+)\\)", data[0]).group(1).decode()
out["search_email"] = m.uid("SEARCH", "EMAILID", eid)[1][0].decode()
out["search_thread"] = m.uid("SEARCH", "THREADID", tid)[1][0].decode()
out["search_unknown"] = m.uid("SEARCH", "EMAILID", "e" + "zz")[1][0].decode()
out["search_other_kind"] = m.uid("SEARCH", "EMAILID", tid)[1][0].decode()
try:
    m.uid("SEARCH", "EMAILID", "bad!id")
    out["search_bad"] = "accepted"
except imaplib.IMAP4.error as e:
    out["search_bad"] = str(e)
typ, data = m._simple_command("LIST", '""', '"*"', "RETURN", "(STATUS (MAILBOXID))")
out["list_status"] = [x.decode() for x in m.untagged_responses.pop("STATUS", [])]
m.logout()
print(json.dumps(out))
`;

test("MAILBOXID, EMAILID and THREADID are the JMAP ids (imaplib)", async () => {
  // Two messages of one thread, one of another.
  const u1 = await deliver(srv, 0, "INBOX", "Message-ID: <a@x>\r\nSubject: plan\r\n\r\nfirst\r\n");
  const u2 = await deliver(srv, 0, "INBOX", "Message-ID: <b@x>\r\nIn-Reply-To: <a@x>\r\nReferences: <a@x>\r\nSubject: Re: plan\r\n\r\nsecond\r\n");
  const u3 = await deliver(srv, 0, "INBOX", "Message-ID: <c@x>\r\nSubject: other\r\n\r\nthird\r\n");
  const out = JSON.parse(await python(SCRIPT, [String(srv.port("imap")), USERS[0]!.address, USERS[0]!.password]));
  expect(out.caps).toContain("OBJECTID");

  // What JMAP calls the same objects.
  const jmap = Jmap.for(srv);
  const { accountId } = await jmap.session();
  const [[, mbs], [, q], [, emails]] = await jmap.call([
    ["Mailbox/get", { accountId, properties: ["name", "role"] }, "m"],
    ["Email/query", { accountId, sort: [{ property: "receivedAt", isAscending: true }] }, "q"],
    ["Email/get", { accountId, "#ids": { resultOf: "q", name: "Email/query", path: "/ids" }, properties: ["threadId", "subject"] }, "g"],
  ]);
  const mbId = (name: string) => mbs.list.find((m: { name: string; role: string | null }) => m.name === name || m.role === name).id as string;
  const bySubject = (s: string) => emails.list.find((e: { subject: string }) => e.subject === s) as { id: string; threadId: string };
  expect(q.ids.length).toBe(3);

  // §4.1 CREATE's tagged OK carries the new mailbox's id; §4.3 STATUS MAILBOXID.
  expect(out.create[0]).toBe("OK");
  expect(out.create[1]).toEqual([`(${mbId("Projects")})`]);
  expect(out.status).toBe(`Projects (MESSAGES 0 MAILBOXID (${mbId("Projects")}))`);
  // §4.2 SELECT's untagged OK [MAILBOXID (…)].
  expect(out.select_mailboxid).toEqual([`(${mbId("inbox")})`]);

  // §5.1 FETCH EMAILID / THREADID: the JMAP Email id and threadId.
  const plan = bySubject("plan");
  const re = bySubject("Re: plan");
  const other = bySubject("other");
  expect(out.fetch).toEqual([
    `1 (UID ${u1} EMAILID (${plan.id}) THREADID (${plan.threadId}))`,
    `2 (UID ${u2} EMAILID (${re.id}) THREADID (${re.threadId}))`,
    `3 (UID ${u3} EMAILID (${other.id}) THREADID (${other.threadId}))`,
  ]);
  expect(re.threadId).toBe(plan.threadId);
  expect(other.threadId).not.toBe(plan.threadId);

  // §5.2 SEARCH EMAILID / THREADID; an id we never issued, or of another kind, finds nothing.
  expect(out.search_email).toBe(String(u1));
  expect(out.search_thread).toBe(`${u1} ${u2}`);
  expect(out.search_unknown).toBe("");
  expect(out.search_other_kind).toBe("");
  expect(out.search_bad).toContain("Invalid object id");

  // §6 LIST-STATUS with MAILBOXID.
  expect(out.list_status).toContain(`Projects (MAILBOXID (${mbId("Projects")}))`);
});

test("the ids survive RENAME and MOVE, COPY makes a new email id (RFC 8474 §4, §5)", async () => {
  const c = await rawLogin(srv, 0);
  const st = await c.cmd("STATUS Projects (MAILBOXID)");
  const id = /MAILBOXID \(([^)\s]+)\)/.exec(st)![1];
  expect(await c.cmd("RENAME Projects Work")).toMatch(/OK/);
  expect(await c.cmd("STATUS Work (MAILBOXID)")).toContain(`MAILBOXID (${id})`);
  await c.cmd("SELECT INBOX");
  const before = await c.cmd("FETCH 1 (EMAILID THREADID)");
  const [, eid, tid] = /EMAILID \(([^)\s]+)\) THREADID \(([^)\s]+)\)/.exec(before)!;
  expect(await c.cmd("COPY 1 Work")).toMatch(/t\d+ OK/);
  expect(await c.cmd("MOVE 1 Work")).toMatch(/t\d+ OK/);
  await c.cmd("SELECT Work");
  const after = await c.cmd("FETCH 1:* (EMAILID THREADID)");
  // The copy has a new email id in the same thread; the moved message keeps its own.
  expect(after).toContain(`* 2 FETCH (EMAILID (${eid}) THREADID (${tid}))`);
  expect(after).toMatch(new RegExp(`\\* 1 FETCH \\(EMAILID \\((?!${eid}\\))[^)\\s]+\\) THREADID \\(${tid}\\)\\)`));
  // With other items the ids come from the message's row.
  expect(await c.cmd("FETCH 2 (RFC822.SIZE EMAILID)")).toMatch(new RegExp(`\\* 2 FETCH \\(RFC822\\.SIZE \\d+ EMAILID \\(${eid}\\)\\)`));
  expect(await c.cmd("SEARCH EMAILID")).toMatch(/t\d+ BAD/);
  c.close();
});

// Not a literal in the call: imapflow's TlsOptions type lacks servername (node's has it).
const tlsOptions = { rejectUnauthorized: false, servername: "mx.example.test" };

test("imapflow reads the same ids (it asks EMAILID with every FETCH)", async () => {
  const jmap = Jmap.for(srv);
  const { accountId } = await jmap.session();
  const [[, mbs], , [, emails]] = await jmap.call([
    ["Mailbox/get", { accountId, properties: ["role"] }, "m"],
    ["Email/query", { accountId, sort: [{ property: "receivedAt", isAscending: true }] }, "q"],
    ["Email/get", { accountId, "#ids": { resultOf: "q", name: "Email/query", path: "/ids" }, properties: ["threadId", "subject", "mailboxIds"] }, "g"],
  ]);
  const inboxId = mbs.list.find((m: { role: string | null }) => m.role === "inbox").id;
  const c = new ImapFlow({ host: "127.0.0.1", port: srv.port("imap"), secure: false, tls: tlsOptions, auth: { user: USERS[0]!.address, pass: USERS[0]!.password }, logger: false });
  await c.connect();
  const box = await c.mailboxOpen("INBOX");
  expect(box.mailboxId).toBe(inboxId);
  const seen: Record<string, string> = {};
  // Flags only: EMAILID comes from the ids, not the whole row.
  for await (const m of c.fetch("1:*", { uid: true, flags: true, threadId: true })) seen[m.emailId!] = m.threadId!;
  const inInbox = emails.list.filter((e: { mailboxIds: Record<string, boolean> }) => e.mailboxIds[inboxId]);
  expect(Object.keys(seen).length).toBe(inInbox.length);
  for (const e of inInbox as { id: string; threadId: string }[]) expect(seen[e.id]).toBe(e.threadId);
  await c.logout();
});
