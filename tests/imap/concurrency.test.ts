// Two sessions on one mailbox see each other's changes at the moments RFC 9051 §7.5.1
// allows: EXISTS pushed into IDLE, FETCH FLAGS after commands, EXPUNGE never during FETCH.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import { openDb } from "../../core/db/open.ts";
import { createStore, type StoreImpl } from "../../core/store/index.ts";
import { silentLog } from "../../core/store/test-helpers.ts";
import type { StoreChange } from "../../core/store/types.ts";

import { RawClient, USERS } from "../helpers/imap.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import { definePlugin } from "../../core/types.ts";
import { builtinPlugins } from "../../plugins/index.ts";
import imap from "../../plugins/imap/index.ts";

let srv: TestServer;
/** The store's change listeners registered after this plugin's setup (the IMAP plugin's),
 *  so a test can hand them an event the change feed would deliver late. */
const listeners: ((ev: StoreChange) => void)[] = [];
const captureListeners = definePlugin({
  name: "test-capture-listeners",
  setup(core) {
    const onChange = core.store.onChange.bind(core.store);
    core.store.onChange = (cb) => (listeners.push(cb), onChange(cb));
  },
});

beforeAll(async () => {
  srv = await startTestServer({ users: USERS, plugins: [captureListeners, ...builtinPlugins.filter((p) => p.name !== "imap"), imap] });
});
afterAll(async () => {
  await srv.cleanup();
});

async function session(box: string): Promise<RawClient> {
  const c = await RawClient.connect(srv.port("imap"));
  expect(await c.cmd(`LOGIN ${USERS[0]!.address} ${USERS[0]!.password}`)).toContain("OK");
  expect(await c.cmd(`SELECT ${box}`)).toContain("OK [READ-WRITE]");
  return c;
}

const msg = (n: number) => `Subject: m${n}\r\nFrom: x@example.test\r\n\r\nbody ${n}\r\n`;

async function append(c: RawClient, box: string, n: number): Promise<string> {
  const m = msg(n);
  return c.cmd(`APPEND ${box} {${m.length}+}\r\n${m}`);
}

test("APPEND in one session is pushed into another session's IDLE", async () => {
  const a = await session("INBOX");
  const b = await session("INBOX");
  a.write("i1 IDLE\r\n");
  await a.readUntil(/^\+ .*\r\n/m);
  expect(await append(b, "INBOX", 1)).toContain("OK [APPENDUID");
  expect(await a.readUntil(/^\* 1 EXISTS\r\n/m)).toContain("* 1 EXISTS");
  // A flag change from B shows up in the IDLE too.
  await b.cmd("STORE 1 +FLAGS (\\Flagged)");
  expect(await a.readUntil(/^\* 1 FETCH \(UID 1 FLAGS \(\\Flagged\)\)\r\n/m)).toBeTruthy();
  a.write("DONE\r\n");
  expect(await a.readUntil(/^i1 OK .*\r\n/m)).toContain("i1 OK");
  a.close();
  b.close();
});

test("EXPUNGE is held back during FETCH/STORE/SEARCH and told at NOOP", async () => {
  await session("INBOX").then((c) => c.cmd("CREATE Shared").then(() => c.close()));
  const a = await session("Shared");
  const b = await session("Shared");
  for (let i = 1; i <= 3; i++) await append(b, "Shared", i);
  expect(await a.cmd("NOOP")).toContain("* 3 EXISTS");
  await b.cmd("STORE 2 +FLAGS.SILENT (\\Deleted)");
  expect(await b.cmd("EXPUNGE")).toContain("* 2 EXPUNGE");
  // FETCH: flags may be reported, EXPUNGE must not be.
  const f = await a.cmd("FETCH 1:3 (UID)");
  expect(f).not.toContain("EXPUNGE");
  expect(f).toContain("* 1 FETCH (UID 1)");
  expect(f).toContain("* 3 FETCH (UID 3)");
  expect(await a.cmd("SEARCH ALL")).not.toContain("EXPUNGE");
  const n = await a.cmd("NOOP");
  expect(n).toContain("* 2 EXPUNGE");
  // The map is now renumbered: UID 3 is message 2.
  expect(await a.cmd("FETCH 2 (UID)")).toContain("* 2 FETCH (UID 3)");
  // UID commands may carry EXPUNGE.
  await b.cmd("STORE 1 +FLAGS.SILENT (\\Deleted)");
  await b.cmd("EXPUNGE");
  expect(await a.cmd("UID FETCH 1:* (FLAGS)")).toContain("* 1 EXPUNGE");
  a.close();
  b.close();
});

test("QRESYNC: VANISHED instead of EXPUNGE, and SELECT resynchronization", async () => {
  const a = await session("INBOX");
  a.close();
  const c = await RawClient.connect(srv.port("imap"));
  await c.cmd(`LOGIN ${USERS[0]!.address} ${USERS[0]!.password}`);
  expect(await c.cmd("ENABLE QRESYNC")).toContain("* ENABLED QRESYNC");
  await c.cmd("CREATE Q");
  const sel = await c.cmd("SELECT Q");
  const uidvalidity = /UIDVALIDITY (\d+)/.exec(sel)![1];
  const modseq = Number(/HIGHESTMODSEQ (\d+)/.exec(sel)![1]);
  const b = await session("Q");
  for (let i = 1; i <= 3; i++) await append(b, "Q", i);
  await c.cmd("NOOP");
  await b.cmd("UID STORE 1 +FLAGS.SILENT (\\Deleted)");
  await b.cmd("UID EXPUNGE 1");
  await b.cmd("UID STORE 2 +FLAGS (\\Seen)");
  const n = await c.cmd("NOOP");
  expect(n).toContain("* VANISHED 1");
  expect(n).toMatch(/\* 1 FETCH \(UID 2 FLAGS \(\\Seen\) MODSEQ \(\d+\)\)/);
  await c.cmd("UNSELECT");
  // Reselect with what we knew at the start: UID 1 vanished, 2 and 3 changed.
  const re = await c.cmd(`SELECT Q (QRESYNC (${uidvalidity} ${modseq} 1:3))`);
  expect(re).toContain("* VANISHED (EARLIER) 1");
  expect(re).toMatch(/\* 1 FETCH \(UID 2 FLAGS \(\\Seen\) MODSEQ/);
  expect(re).toMatch(/\* 2 FETCH \(UID 3 FLAGS \(\) MODSEQ/);
  // CHANGEDSINCE with VANISHED.
  const f = await c.cmd(`UID FETCH 1:* (FLAGS) (CHANGEDSINCE ${modseq} VANISHED)`);
  expect(f).toContain("* VANISHED (EARLIER) 1");
  c.close();
  b.close();
});

test("the selected mailbox deleted by another session: BYE", async () => {
  const b = await session("INBOX");
  await b.cmd("CREATE Doomed");
  const a = await session("Doomed");
  expect(await b.cmd("DELETE Doomed")).toContain("OK");
  a.write("x NOOP\r\n");
  expect(await a.readUntil(/\* BYE .*\r\n/)).toContain("deleted");
  a.close();
  b.close();
});

// listen.processes > 1: the change feed reads another process's new message, our own
// EXPUNGE removes it (it was \Deleted), and only then does the feed's "append" event
// arrive. The session must not take it as new: it would show a message that is gone.
test("another process's late append event for a message expunged here shows nothing", async () => {
  const store = srv.core.store;
  const acct = (await store.getAccount(USERS[0]!.address))!;
  const box = await store.createMailbox(acct.id, "Late");
  const a = await session("Late");
  // The other process: a second store on the same database file.
  const db2 = await openDb({ url: `file:${join(srv.dataDir, "kotakpos.db")}` });
  const other = await createStore({ db: db2, blobDir: join(srv.dataDir, "blobs"), log: silentLog, gc: { intervalMs: 0 } });
  try {
    const { uid, modseq } = await other.append(box.id, new TextEncoder().encode(msg(40)), { flags: ["\\Deleted"] });
    expect(await a.cmd("EXPUNGE")).toMatch(/^t\d+ OK/m);
    expect((await store.uidList(box.id)).length).toBe(0);
    const late: StoreChange = { accountId: acct.id, mailboxId: box.id, kind: "append", uids: [uid], modseq, flags: [["\\Deleted"]], remote: true };
    expect(listeners.length).toBeGreaterThan(0);
    for (const cb of listeners) cb(late);
    const noop = await a.cmd("NOOP");
    expect(noop).not.toContain("EXISTS");
    expect(await a.cmd("FETCH 1:* (UID)")).not.toContain("FETCH (");
  } finally {
    a.close();
    await other.close();
    await db2.close();
  }
});

// listen.processes > 1: another process appends (UID 1) and this session's own APPEND
// gets UID 2 before the change feed has told this process of UID 1. Shown as new alone,
// UID 2 would take sequence number 1, and UID 1 could never be shown after it (UIDs
// ascend with sequence numbers, RFC 9051 §2.3.1.1): the session looks at the whole list.
test("an own APPEND past a UID another process gave shows both, in UID order", async () => {
  const store = srv.core.store as StoreImpl;
  const feed = store.followOthers(60_000); // polled by hand below
  await feed.poll();
  const acct = (await store.getAccount(USERS[0]!.address))!;
  const box = await store.createMailbox(acct.id, "Gap");
  const a = await session("Gap");
  const db2 = await openDb({ url: `file:${join(srv.dataDir, "kotakpos.db")}` });
  const other = await createStore({ db: db2, blobDir: join(srv.dataDir, "blobs"), log: silentLog, gc: { intervalMs: 0 } });
  try {
    expect((await other.append(box.id, new TextEncoder().encode(msg(50)))).uid).toBe(1);
    const r = await append(a, "Gap", 51);
    expect(r).toContain("APPENDUID");
    expect(r).toContain("* 2 EXISTS");
    const f = await a.cmd("FETCH 1:* (UID)");
    expect(f).toContain("* 1 FETCH (UID 1)");
    expect(f).toContain("* 2 FETCH (UID 2)");
    // The feed's event for UID 1 comes later: nothing new then.
    await feed.poll();
    expect(await a.cmd("NOOP")).not.toContain("EXISTS");
  } finally {
    feed.stop();
    a.close();
    await other.close();
    await db2.close();
  }
});
