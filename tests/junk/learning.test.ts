// The junk filter learning end to end (issue 22): mail arrives over SMTP (python smtplib),
// the user reads and files it over IMAP (python imaplib); three messages of a kind moved
// into Junk make the next one of that kind arrive in Junk, moving one out trains ham, and
// mail from someone the user wrote to is never classified.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import { python } from "../helpers/imap.ts";
import { mailbox, pySend } from "../helpers/smtp.ts";
import smtp from "../../plugins/smtp/index.ts";
import imap from "../../plugins/imap/index.ts";
import junk from "../../plugins/junk/index.ts";

const ALICE = { address: "alice@example.test", password: "alice-pw-1" };
const BOB = { address: "bob@example.test", password: "bob-pw-2" };
let srv: TestServer;
let aliceId = 0;

beforeAll(async () => {
  srv = await startTestServer({ users: [ALICE, BOB], plugins: [smtp, imap, junk] });
  aliceId = (await srv.core.store.getAccount(ALICE.address))!.id;
});
afterAll(async () => {
  await srv?.cleanup();
});

let n = 0;
function message(from: string, subject: string, body: string): string {
  n++;
  return [`From: <${from}>`, `To: <${ALICE.address}>`, `Subject: ${subject}`, `Date: Thu, 03 Dec 2026 09:0${n % 10}:00 +0000`, `Message-ID: <m${n}@${from.split("@")[1]}>`, "", body, ""].join("\r\n");
}

const spam = (i: number) =>
  message(
    `promo${i}@zorblax-deals.test`,
    `Zorblax quantum wallet upgrade ${i}`,
    `The zorblax quantum wallet upgrade is ready.\r\nZorblax miners report new quantum credits in the wallet.\r\nSee https://zorblax-deals.test/claim?id=${i} for the quantum wallet upgrade.\r\nZorblax team`,
  );

async function deliver(raw: string, from: string): Promise<void> {
  const r = await pySend(srv.port("smtp"), { from, to: [ALICE.address], msg: raw });
  expect(r.ok).toBe(true);
}

async function totals(): Promise<{ spam: number; ham: number }> {
  const r = await srv.core.db.query({ sql: "SELECT spam, ham FROM junk_totals WHERE account_id = ?", args: [aliceId] });
  return { spam: Number(r.rows[0]?.spam ?? 0), ham: Number(r.rows[0]?.ham ?? 0) };
}

async function until(what: () => Promise<boolean>, label: string): Promise<void> {
  const end = Date.now() + 10_000;
  while (!(await what())) {
    if (Date.now() > end) throw new Error(`timed out: ${label}`);
    await Bun.sleep(50);
  }
}

/** imaplib as alice: `body` runs with M logged in; r(k, v) records results. */
async function imaplib(body: string): Promise<Record<string, unknown>> {
  const script = `
import imaplib, json, sys
out = {}
def dec(x):
    if isinstance(x, bytes): return x.decode('utf-8', 'replace')
    if isinstance(x, (list, tuple)): return [dec(y) for y in x]
    return x
def r(k, v): out[k] = dec(v)
M = imaplib.IMAP4('127.0.0.1', int(sys.argv[1]))
M.login(${JSON.stringify(ALICE.address)}, ${JSON.stringify(ALICE.password)})
${body}
M.logout()
print(json.dumps(out))
`;
  return JSON.parse(await python(script, [String(srv.port("imap"))]));
}

test("three messages moved into Junk over IMAP send the next of their kind to Junk; moving one out trains ham", async () => {
  // Ordinary mail, read by the user (reading outside Junk teaches ham).
  await deliver(message("carol@friends.test", "Lunch on Friday?", "Hi Alice,\r\nare we still on for lunch on Friday at the usual place?\r\nCarol"), "carol@friends.test");
  await deliver(message("dan@work.test", "Minutes of the planning meeting", "Attached are my notes from the planning meeting.\r\nPlease review the schedule before Monday.\r\nDan"), "dan@work.test");
  for (let i = 1; i <= 3; i++) await deliver(spam(i), `promo${i}@zorblax-deals.test`);
  const inbox = await mailbox(srv, ALICE.address);
  expect(inbox.length).toBe(5);
  // Before any training the spam is not recognised: it is in the INBOX, scored.
  expect(inbox[2]).toMatch(/^X-Spam-Score: 0\.\d{3} \(ok; kotakpos bayes\)\r$/m);
  const r1 = await imaplib(`
M.select('INBOX')
r('read', M.uid('FETCH', '1:2', '(BODY[])')[0])
r('move', M.uid('MOVE', '3:5', 'Junk')[0])
`);
  expect(r1.move).toBe("OK");
  await until(async () => (await totals()).spam === 3 && (await totals()).ham === 2, "3 spam and 2 ham learned");

  await deliver(spam(4), "promo4@zorblax-deals.test");
  const junked = await mailbox(srv, ALICE.address, "Junk");
  expect(junked.length).toBe(4);
  expect(junked[3]).toContain("Zorblax quantum wallet upgrade 4");
  expect(junked[3]).toMatch(/^X-Spam-Score: (0\.9\d\d|1\.000) \(junk; kotakpos bayes\)\r$/m);
  // Ordinary mail from a new sender still reaches the INBOX.
  await deliver(message("erin@friends.test", "Photos from the trip", "Hi Alice,\r\nhere are the photos from our trip, are we meeting on Friday?\r\nErin"), "erin@friends.test");
  expect((await mailbox(srv, ALICE.address)).some((m) => m.includes("Photos from the trip"))).toBe(true);

  // The filed message carries $Junk; moving it back out trains ham and marks $NotJunk.
  const r2 = await imaplib(`
M.select('Junk')
r('flags', M.uid('FETCH', '4', '(FLAGS)')[1])
r('move', M.uid('MOVE', '4', 'INBOX')[0])
`);
  expect(String(r2.flags)).toContain("$Junk");
  expect(r2.move).toBe("OK");
  await until(async () => (await totals()).ham === 3, "moved-out message learned as ham");
  const r3 = await imaplib(`
M.select('INBOX')
typ, data = M.uid('SEARCH', 'KEYWORD', '$NotJunk')
r('notjunk', data)
`);
  expect(String(r3.notjunk).trim().split(/\s+/).length).toBe(1);
  const state = await srv.core.db.query({ sql: "SELECT state, count(*) AS n FROM junk_messages WHERE account_id = ? GROUP BY state ORDER BY state", args: [aliceId] });
  expect(state.rows.map((r) => `${r.state}:${r.n}`)).toEqual(["ham:3", "spam:3"]);
}, 60_000);

test("mail from an address the user has written to is not classified", async () => {
  // Alice writes to bob (submission, authenticated); bob's spam-like reply is let through.
  const sent = await pySend(srv.port("submission"), {
    from: ALICE.address,
    to: [BOB.address],
    msg: message(ALICE.address, "Hello Bob", "Hi Bob, how are you?"),
    login: [ALICE.address, ALICE.password],
  });
  expect(sent.ok).toBe(true);
  await deliver(spam(5).replace("From: <promo5@zorblax-deals.test>", `From: <${BOB.address}>`), BOB.address);
  const inbox = await mailbox(srv, ALICE.address);
  const last = inbox.find((m) => m.includes("Zorblax quantum wallet upgrade 5"));
  expect(last).toBeDefined();
  expect(last).toContain("X-Spam-Score: skipped (known sender)");
}, 30_000);

test("a message to two accounts: each copy carries its own X-Spam-Score, and IMAP reads each copy whole", async () => {
  // Alice has written to news@partner.test; Bob has not.
  const sent = await pySend(srv.port("submission"), {
    from: ALICE.address,
    to: ["news@partner.test"],
    msg: message(ALICE.address, "Subscribe", "Please subscribe me."),
    login: [ALICE.address, ALICE.password],
  });
  expect(sent.ok).toBe(true);
  const body = "Our spring catalogue is out.\r\nSee https://partner.test/spring for the new range.\r\nPartner news";
  const raw = message("news@partner.test", "Spring catalogue", body).replace(`To: <${ALICE.address}>`, `To: <${ALICE.address}>, <${BOB.address}>`);
  expect((await pySend(srv.port("smtp"), { from: "news@partner.test", to: [ALICE.address, BOB.address], msg: raw })).ok).toBe(true);
  const alices = (await mailbox(srv, ALICE.address)).find((m) => m.includes("Spring catalogue"))!;
  const bobs = (await mailbox(srv, BOB.address)).find((m) => m.includes("Spring catalogue"))!;
  expect(alices.match(/^X-Spam-Score: .*$/gm)).toEqual(["X-Spam-Score: skipped (known sender)"]);
  expect(bobs.match(/^X-Spam-Score: .*$/gm)).toHaveLength(1);
  expect(bobs).toMatch(/^X-Spam-Score: 0\.\d{3} \(ok; kotakpos bayes\)\r$/m);
  // The copies' stored structures follow their own prefixes: imaplib fetches the body text,
  // a header field and the sizes of both.
  const fetch = (user: { address: string; password: string }) =>
    python(
      `
import imaplib, json, sys
M = imaplib.IMAP4('127.0.0.1', int(sys.argv[1]))
M.login(sys.argv[2], sys.argv[3])
M.select('INBOX')
typ, data = M.uid('SEARCH', 'SUBJECT', '"Spring catalogue"')
uid = data[0].split()[-1]
typ, d = M.uid('FETCH', uid, '(RFC822.SIZE BODY.PEEK[TEXT] BODY.PEEK[HEADER.FIELDS (SUBJECT)] BODY.PEEK[])')
size = int(d[0][0].decode().split('RFC822.SIZE ')[1].split()[0])
print(json.dumps({'size': size, 'items': [it[1].decode() for it in d if isinstance(it, tuple)]}))
M.logout()
`,
      [String(srv.port("imap")), user.address, user.password],
    ).then((o) => JSON.parse(o) as { size: number; items: string[] });
  for (const [user, stored] of [
    [ALICE, alices],
    [BOB, bobs],
  ] as const) {
    const r = await fetch(user);
    const [text, subject, whole] = r.items;
    expect(text).toBe(`${body}\r\n`);
    expect(subject).toBe("Subject: Spring catalogue\r\n\r\n");
    expect(whole).toBe(stored);
    expect(r.size).toBe(Buffer.byteLength(stored));
  }
}, 30_000);

test("only reading teaches ham: flagging or deleting a message already \\Seen does not", async () => {
  const before = await totals();
  // APPENDed already read (a sent copy, an import): flagging and deleting it is not reading.
  // Then an unread one is read: that teaches ham, and training runs in order per account,
  // so once it is counted the earlier changes were handled too.
  const r = await imaplib(`
M.append('INBOX', '(\\\\Seen)', None, b'From: <kept@archive.test>\\r\\nSubject: Old thread\\r\\n\\r\\nKept for the record.\\r\\n')
M.append('INBOX', None, None, b'From: <gina@friends.test>\\r\\nSubject: Picnic\\r\\n\\r\\nPicnic on Sunday?\\r\\n')
M.select('INBOX')
typ, a = M.uid('SEARCH', 'SUBJECT', '"Old thread"')
typ, b = M.uid('SEARCH', 'SUBJECT', 'Picnic')
r('flag', M.uid('STORE', a[0].split()[-1], '+FLAGS', '(\\\\Flagged)')[0])
r('delete', M.uid('STORE', a[0].split()[-1], '+FLAGS', '(\\\\Deleted)')[0])
r('read', M.uid('STORE', b[0].split()[-1], '+FLAGS', '(\\\\Seen)')[0])
`);
  expect([r.flag, r.delete, r.read]).toEqual(["OK", "OK", "OK"]);
  await until(async () => (await totals()).ham === before.ham + 1, "the read message learned as ham");
  await Bun.sleep(200);
  expect(await totals()).toEqual({ spam: before.spam, ham: before.ham + 1 });
  // An APPEND carrying $Junk into the INBOX is a client's own move out of Junk: ham.
  await imaplib(`M.append('INBOX', '($Junk)', None, b'From: <hal@friends.test>\\r\\nSubject: Not spam\\r\\n\\r\\nReally.\\r\\n')`);
  await until(async () => (await totals()).ham === before.ham + 2, "the APPEND with $Junk learned as ham");
}, 30_000);
