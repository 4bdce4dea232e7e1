// Extensions on the wire, exactly: LIST-EXTENDED / LIST-STATUS, ESEARCH and SEARCHRES,
// BINARY, UTF8=ACCEPT, ENABLE IMAP4rev2, ID, CONDSTORE's UNCHANGEDSINCE / MODIFIED.
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { TestServer } from "../helpers/server.ts";
import { RawClient, startImap, USERS } from "../helpers/imap.ts";

let srv: TestServer;
beforeAll(async () => {
  srv = await startImap();
  // Bob's mailbox: three messages, one with a base64 part.
  const store = srv.core.store;
  const acct = (await store.getAccount(USERS[1]!.address))!;
  const inbox = (await store.getMailbox(acct.id, "INBOX"))!;
  const enc = (s: string) => new TextEncoder().encode(s);
  await store.append(inbox.id, enc("Subject: one\r\nFrom: a@example.test\r\n\r\nfirst\r\n"), { flags: ["\\Seen"] });
  await store.append(
    inbox.id,
    enc(
      'Subject: two\r\nFrom: b@example.test\r\nContent-Type: multipart/mixed; boundary="x"\r\n\r\n--x\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n--x\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\nAAECAwD/\r\n--x--\r\n',
    ),
  );
  await store.append(inbox.id, enc("Subject: =?utf-8?b?w7xiZXI=?=\r\nFrom: c@example.test\r\n\r\nthird\r\n"));
});
afterAll(async () => {
  await srv.cleanup();
});

async function bob(): Promise<RawClient> {
  const c = await RawClient.connect(srv.port("imap"));
  expect(await c.cmd(`LOGIN ${USERS[1]!.address} ${USERS[1]!.password}`)).toContain("OK");
  return c;
}

test("LIST-EXTENDED, LIST-STATUS, SPECIAL-USE selection", async () => {
  const c = await bob();
  await c.cmd("CREATE Lists/Sub");
  // CREATE subscribes nothing (RFC 9051 §6.3.4); the child is subscribed by hand.
  await c.cmd("SUBSCRIBE Lists/Sub");
  const r = await c.cmd('LIST (SUBSCRIBED) "" "*" RETURN (CHILDREN STATUS (MESSAGES UNSEEN))');
  expect(r).toContain('* LIST (\\HasNoChildren \\Subscribed) "/" INBOX');
  expect(r).toContain("* STATUS INBOX (MESSAGES 3 UNSEEN 2)");
  expect(r).toContain('* LIST (\\HasNoChildren \\Subscribed) "/" Lists/Sub');
  expect(r).not.toMatch(/"\/" Lists\r\n/);
  const rec = await c.cmd('LIST (SUBSCRIBED RECURSIVEMATCH) "" "*"');
  expect(rec).toContain('* LIST (\\HasChildren) "/" Lists ("CHILDINFO" ("SUBSCRIBED"))');
  const special = await c.cmd('LIST (SPECIAL-USE) "" "*"');
  expect(special.match(/^\* LIST/gm)?.length).toBe(5);
  expect(special).toContain('* LIST (\\Sent \\HasNoChildren) "/" Sent');
  const multi = await c.cmd('LIST "" ("INBOX" "Lists/%")');
  expect(multi).toContain('"/" INBOX');
  expect(multi).toContain('"/" Lists/Sub');
  expect(await c.cmd('LIST "" ""')).toContain('* LIST (\\Noselect) "/" ""');
  c.close();
});

test("ESEARCH, SEARCHRES, MODSEQ search", async () => {
  const c = await bob();
  await c.cmd("SELECT INBOX");
  expect(await c.cmd("SEARCH RETURN (MIN MAX COUNT ALL) UNSEEN")).toMatch(/\* ESEARCH \(TAG "t\d+"\) MIN 2 MAX 3 COUNT 2 ALL 2:3\r\n/);
  expect(await c.cmd("UID SEARCH RETURN () ALL")).toMatch(/\* ESEARCH \(TAG "t\d+"\) UID ALL 1:3\r\n/);
  expect(await c.cmd("SEARCH RETURN (COUNT) SUBJECT nothing-matches")).toMatch(/ESEARCH \(TAG "t\d+"\) COUNT 0\r\n/);
  const saved = await c.cmd("SEARCH RETURN (SAVE) FROM b@example.test");
  expect(saved).not.toContain("ESEARCH");
  expect(await c.cmd("FETCH $ (UID)")).toContain("* 2 FETCH (UID 2)");
  expect(await c.cmd("SEARCH UID $")).toContain("* SEARCH 2\r\n");
  expect(await c.cmd("SEARCH MODSEQ 1")).toMatch(/\* SEARCH 1 2 3 \(MODSEQ \d+\)\r\n/);
  expect(await c.cmd("SEARCH CHARSET UTF-8 SUBJECT über")).toContain("* SEARCH 3\r\n");
  c.close();
});

test("PREVIEW (RFC 8970) from the text stored at delivery", async () => {
  const c = await bob();
  await c.cmd("SELECT INBOX");
  expect(await c.cmd("FETCH 1:2 (PREVIEW)")).toContain('* 1 FETCH (PREVIEW "first")');
  expect(await c.cmd("FETCH 2 (PREVIEW (LAZY))")).toContain('* 2 FETCH (PREVIEW "see attached")');
  expect(await c.cmd("FETCH 2 (PREVIEW (EAGER))")).toMatch(/BAD/);
  c.close();
});

test("BINARY and BINARY.SIZE decode the transfer encoding", async () => {
  const c = await bob();
  await c.cmd("SELECT INBOX");
  const r = await c.cmd("FETCH 2 (BINARY.SIZE[2] BINARY.PEEK[2] BINARY.PEEK[1])");
  expect(r).toContain("BINARY.SIZE[2] 6");
  // Contains a NUL byte: a literal8.
  expect(r).toContain("BINARY[2] ~{6}\r\n\x00\x01\x02\x03\x00\xff");
  expect(r).toContain("BINARY[1] {12}\r\nsee attached");
  c.close();
});

test("UTF8=ACCEPT and IMAP4rev2: UTF-8 names, ESEARCH answers, LIST in SELECT", async () => {
  const c = await bob();
  expect(await c.cmd("CREATE Bücher")).toContain("OK");
  expect(await c.cmd('LIST "" "B*"')).toContain('"/" B&APw-cher');
  expect(await c.cmd("ENABLE UTF8=ACCEPT IMAP4rev2")).toContain("* ENABLED UTF8=ACCEPT IMAP4rev2");
  // (RawClient reads bytes as latin1.)
  expect(await c.cmd('LIST "" "B*"')).toContain(Buffer.from('"/" "Bücher"').toString("latin1"));
  const sel = await c.cmd("SELECT INBOX");
  expect(sel).toContain('* LIST () "/" INBOX');
  expect(sel).not.toContain("RECENT");
  expect(await c.cmd("SEARCH ALL")).toMatch(/\* ESEARCH \(TAG "t\d+"\) ALL 1:3\r\n/);
  expect(await c.cmd("FETCH 3 (ENVELOPE)")).toContain('"=?utf-8?b?w7xiZXI=?="');
  expect(await c.cmd("SELECT Bücher")).toContain("* OK [CLOSED]");
  c.close();
});

test("CONDSTORE: UNCHANGEDSINCE fails with MODIFIED, CHANGEDSINCE filters", async () => {
  const c = await bob();
  await c.cmd("CREATE Cond");
  const m = "Subject: c\r\n\r\nx\r\n";
  await c.cmd(`APPEND Cond {${m.length}+}\r\n${m}`);
  await c.cmd(`APPEND Cond {${m.length}+}\r\n${m}`);
  const sel = await c.cmd("SELECT Cond (CONDSTORE)");
  const hm = Number(/HIGHESTMODSEQ (\d+)/.exec(sel)![1]);
  const r1 = await c.cmd(`STORE 1 (UNCHANGEDSINCE ${hm}) +FLAGS (\\Seen)`);
  // (\Recent: this session is the first to see the messages, RFC 3501 §2.3.2.)
  expect(r1).toMatch(/\* 1 FETCH \(UID 1 FLAGS \(\\Seen \\Recent\) MODSEQ \(\d+\)\)/);
  const r2 = await c.cmd(`STORE 1:2 (UNCHANGEDSINCE ${hm}) +FLAGS (\\Flagged)`);
  expect(r2).toMatch(/OK \[MODIFIED 1\]/);
  expect(r2).toMatch(/\* 2 FETCH \(UID 2 FLAGS \(\\Flagged \\Recent\) MODSEQ/);
  const f = await c.cmd(`FETCH 1:* (FLAGS) (CHANGEDSINCE ${hm})`);
  expect(f.match(/FETCH/g)?.length).toBe(3); // two responses + the tagged line
  const st = await c.cmd("STATUS Cond (HIGHESTMODSEQ)");
  expect(Number(/HIGHESTMODSEQ (\d+)/.exec(st)![1])).toBeGreaterThan(hm);
  c.close();
});

test("ID, NAMESPACE, ENABLE unknown, UNSELECT, CLOSE on EXAMINE keeps messages", async () => {
  const c = await bob();
  expect(await c.cmd('ID ("name" "test")')).toContain('* ID ("name" "kotakpos"');
  expect(await c.cmd("ID NIL")).toContain("OK");
  expect(await c.cmd("ENABLE X-UNKNOWN")).toContain("* ENABLED\r\n");
  await c.cmd("EXAMINE INBOX");
  expect(await c.cmd("STORE 1 +FLAGS (\\Deleted)")).toMatch(/NO \[READ-ONLY\]/);
  expect(await c.cmd("CLOSE")).toContain("OK");
  await c.cmd("SELECT INBOX");
  expect(await c.cmd("UNSELECT")).toContain("OK");
  expect(await c.cmd("FETCH 1 FLAGS")).toMatch(/BAD/);
  c.close();
});
