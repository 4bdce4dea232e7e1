// QUOTA (RFC 9208) on the wire: GETQUOTAROOT / GETQUOTA report the admin-set limits and the
// usage; APPEND and COPY over quota get NO [OVERQUOTA]; SMTP delivery to an account at its
// quota gets 452 4.2.2 (python smtplib); SETQUOTA is refused.
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { TestServer } from "../../../tests/helpers/server.ts";
import { deliver, python, rawLogin, startImap, USERS } from "../../../tests/helpers/imap.ts";

let srv: TestServer;
let accountId: number;
const MSG = "Subject: q\r\n\r\n" + "x".repeat(1500) + "\r\n";
beforeAll(async () => {
  srv = await startImap();
  accountId = (await srv.core.store.getAccount(USERS[0]!.address))!.id;
  await deliver(srv, 0, "INBOX", MSG);
});
afterAll(() => srv.cleanup());

test("GETQUOTAROOT and GETQUOTA: one root for the account", async () => {
  const c = await rawLogin(srv, 0);
  expect(await c.cmd("CAPABILITY")).toMatch(/ QUOTA QUOTA=RES-STORAGE QUOTA=RES-MESSAGE/);
  expect(await c.cmd("GETQUOTAROOT INBOX")).toContain('* QUOTAROOT INBOX ""\r\n* QUOTA "" ()\r\n');
  await srv.core.store.setQuota(accountId, { storageKib: 4, messages: 10 });
  const r = await c.cmd("GETQUOTAROOT INBOX");
  expect(r).toContain('* QUOTAROOT INBOX ""\r\n* QUOTA "" (STORAGE 2 4 MESSAGE 1 10)\r\n');
  expect(await c.cmd('GETQUOTA ""')).toContain('* QUOTA "" (STORAGE 2 4 MESSAGE 1 10)');
  expect(await c.cmd("GETQUOTA nosuchroot")).toMatch(/NO \[NONEXISTENT\]/);
  expect(await c.cmd('SETQUOTA "" (STORAGE 100)')).toMatch(/NO \[NOPERM\]/);
  c.close();
});

test("APPEND and COPY over quota: NO [OVERQUOTA]; STATUS DELETED-STORAGE", async () => {
  await srv.core.store.setQuota(accountId, { storageKib: 4, messages: 10 });
  const c = await rawLogin(srv, 0);
  // 1516 bytes used of 4096: one more message fits, the next does not.
  expect(await c.cmd(`APPEND INBOX {${MSG.length}+}\r\n${MSG}`)).toMatch(/t\d+ OK \[APPENDUID/);
  expect(await c.cmd(`APPEND INBOX {${MSG.length}+}\r\n${MSG}`)).toMatch(/t\d+ NO \[OVERQUOTA\]/);
  await c.cmd("SELECT INBOX");
  expect(await c.cmd("COPY 1:2 Archive")).toMatch(/t\d+ NO \[OVERQUOTA\]/);
  await c.cmd("STORE 1 +FLAGS (\\Deleted)");
  expect(await c.cmd("STATUS INBOX (DELETED DELETED-STORAGE)")).toContain("* STATUS INBOX (DELETED 1 DELETED-STORAGE 2)");
  // MOVE within the account changes no usage: allowed.
  expect(await c.cmd("MOVE 2 Archive")).toMatch(/t\d+ OK/);
  await srv.core.store.setQuota(accountId, { storageKib: null, messages: 2 });
  expect(await c.cmd(`APPEND INBOX {${MSG.length}+}\r\n${MSG}`)).toMatch(/t\d+ NO \[OVERQUOTA\]/);
  await srv.core.store.setQuota(accountId, { storageKib: null, messages: null });
  expect(await c.cmd(`APPEND INBOX {${MSG.length}+}\r\n${MSG}`)).toMatch(/t\d+ OK/);
  c.close();
});

test("SMTP delivery to a full mailbox: 452 4.2.2 at RCPT", async () => {
  const acct = USERS[0]!.address;
  const send = () =>
    python(
      `
import smtplib, sys
s = smtplib.SMTP("127.0.0.1", int(sys.argv[1]))
s.ehlo("client.example")
s.mail("someone@remote.example")
code, msg = s.rcpt(sys.argv[2])
print(code, msg.decode())
s.quit()
`,
      [String(srv.port("smtp")), acct],
    );
  await srv.core.store.setQuota(accountId, { storageKib: 1, messages: null });
  expect(await send()).toContain("452 4.2.2 Mailbox full");
  await srv.core.store.setQuota(accountId, { storageKib: null, messages: null });
  expect(await send()).toMatch(/^250/);
});
