// \Recent (RFC 3501 §2.3.2) survives a restart: a message told to a session before the
// restart is not \Recent after it; one no session was told of still is, to exactly one
// session (the marks are written behind the claim and flushed at shutdown). The mark goes
// with a deleted mailbox.
import { afterAll, expect, test } from "bun:test";
import { eq } from "drizzle-orm";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startTestServer, type TestServer } from "../../tests/helpers/server.ts";
import { deliver, rawLogin, USERS } from "../../tests/helpers/imap.ts";
import { imapRecent } from "./schema.ts";
import { RecentMarks } from "./recent.ts";

const dataDir = mkdtempSync(join(tmpdir(), "kotakpos-recent-"));
const start = (): Promise<TestServer> => startTestServer({ users: USERS, dataDir, keepData: true });
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

test("\\Recent marks are kept across a restart", async () => {
  let srv = await start();
  await deliver(srv, 0, "INBOX", "Subject: one\r\n\r\nx\r\n");
  await deliver(srv, 0, "INBOX", "Subject: two\r\n\r\nx\r\n");
  const a = await rawLogin(srv, 0);
  expect(await a.cmd("SELECT INBOX")).toContain("* 2 EXISTS\r\n* 2 RECENT\r\n");
  // Delivered after a's SELECT, and a runs no command: no session is told of it.
  await deliver(srv, 0, "INBOX", "Subject: three\r\n\r\nx\r\n");
  a.close();
  await srv.cleanup();

  srv = await start();
  try {
    const b = await rawLogin(srv, 0);
    const c = await rawLogin(srv, 0);
    expect(await b.cmd("STATUS INBOX (MESSAGES RECENT)")).toContain("* STATUS INBOX (MESSAGES 3 RECENT 1)");
    // EXAMINE shows without taking (§6.3.2).
    expect(await c.cmd("EXAMINE INBOX")).toContain("* 3 EXISTS\r\n* 1 RECENT\r\n");
    expect(await c.cmd("FETCH 1:3 (FLAGS)")).toContain("* 1 FETCH (FLAGS ())\r\n* 2 FETCH (FLAGS ())\r\n* 3 FETCH (FLAGS (\\Recent))\r\n");
    // The first SELECT takes it; after that nobody has it.
    expect(await b.cmd("SELECT INBOX")).toContain("* 3 EXISTS\r\n* 1 RECENT\r\n");
    expect(await b.cmd("SEARCH RECENT")).toContain("* SEARCH 3\r\n");
    expect(await c.cmd("SELECT INBOX")).toContain("* 3 EXISTS\r\n* 0 RECENT\r\n");
    expect(await c.cmd("STATUS Trash (RECENT)")).toContain("RECENT 0");

    // A mailbox's mark is a row of imap_recent that goes with the mailbox.
    expect(await c.cmd("CREATE Gone")).toMatch(/t\d+ OK/);
    const acct = (await srv.core.store.getAccount(USERS[0]!.address))!;
    const gone = (await srv.core.store.getMailbox(acct.id, "Gone"))!;
    await srv.core.store.append(gone.id, new TextEncoder().encode("Subject: g\r\n\r\nx\r\n"));
    expect(await c.cmd("SELECT Gone")).toContain("* 1 RECENT\r\n");
    const rows = () => srv.core.db.orm.select().from(imapRecent).where(eq(imapRecent.mailboxId, gone.id));
    // (Written behind the claim: wait for it.)
    for (let i = 0; i < 100 && (await rows()).length === 0; i++) await Bun.sleep(20);
    expect(await rows()).toEqual([{ mailboxId: gone.id, mark: 1 }]);
    await c.cmd("UNSELECT");
    expect(await c.cmd("DELETE Gone")).toMatch(/t\d+ OK/);
    expect(await rows()).toEqual([]);
    b.close();
    c.close();
  } finally {
    await srv.cleanup();
  }
});

test("claims made close together are written in one transaction; flush does not wait out the delay", async () => {
  const writes: unknown[][] = [];
  const db = {
    query: async () => ({ rows: [] }),
    write: async (fn: (tx: { execute: (s: { args: unknown[] }) => Promise<void> }) => Promise<void>) => {
      const stmts: unknown[] = [];
      await fn({ execute: async (s) => void stmts.push(s.args) });
      writes.push(stmts);
    },
  };
  const marks = new RecentMarks(db as unknown as ConstructorParameters<typeof RecentMarks>[0]);
  expect(await marks.claim(1, [1, 2])).toEqual([1, 2]);
  expect(await marks.claim(1, [2, 3])).toEqual([3]);
  expect(await marks.claim(2, [7])).toEqual([7]);
  await Bun.sleep(50);
  expect(writes).toEqual([]); // still waiting to coalesce
  const t0 = performance.now();
  await marks.flush();
  expect(performance.now() - t0).toBeLessThan(500);
  expect(writes).toEqual([
    [
      [3, 1],
      [7, 2],
    ],
  ]);
});
