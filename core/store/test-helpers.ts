// Shared setup for the store's unit tests: a fresh database and blob dir per test, and a
// consistency check after each.
import { afterEach, beforeEach, expect } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openDb, type Db } from "../db/open.ts";
import type { Logger } from "../types.ts";
import { createStore, type StoreImpl, type StoreOptions } from "./index.ts";
import type { Account, Mailbox, StoreChange } from "./types.ts";

export const silentLog: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  child: () => silentLog,
};

export interface TestStore {
  store: StoreImpl;
  db: Db;
  dir: string;
  blobDir: string;
  events: StoreChange[];
  cleanup(): Promise<void>;
}

export async function makeStore(gc?: StoreOptions["gc"]): Promise<TestStore> {
  const dir = mkdtempSync(join(tmpdir(), "kotakpos-store-"));
  const db = await openDb({ url: `file:${join(dir, "k.db")}` });
  const blobDir = join(dir, "blobs");
  const store = await createStore({ db, blobDir, log: silentLog, gc: { intervalMs: 0, ...gc } });
  await store.gc(); // let the start-up GC finish before the test looks at files
  const events: StoreChange[] = [];
  store.onChange((e) => events.push(e));
  return {
    store,
    db,
    dir,
    blobDir,
    events,
    async cleanup() {
      await store.close();
      await db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function msg(subject: string, body = "hello\r\n", extra = ""): Uint8Array {
  return new TextEncoder().encode(`From: a@x.test\r\nTo: b@example.test\r\nSubject: ${subject}\r\nMessage-ID: <${subject.replace(/\W/g, "")}@x.test>\r\n${extra}\r\n${body}`);
}

/** Registers beforeEach/afterEach for the tests of the calling file: a fresh store per
 *  test, handed to `set` (e.g. `(f) => void (t = f)`), the consistency check after each. */
export function storeFixture(set: (t: TestStore) => void | Promise<void>): void {
  let t: TestStore | undefined;
  beforeEach(async () => {
    t = await makeStore();
    await set(t);
  });
  afterEach(async () => {
    expect(await t!.store.check()).toEqual([]);
    await t!.cleanup();
  });
}

/** One account's fixture: a store with the account, its INBOX and a mailbox "Other" (the
 *  change events of the set-up cleared). */
export interface AccountFixture {
  t: TestStore;
  a: Account;
  inbox: Mailbox;
  other: Mailbox;
}

/** storeFixture with one account; `set` receives the fixture before each test (e.g.
 *  `(f) => ({ t, a, inbox, other } = f)`) and may set up more. */
export function accountFixture(address: string, set: (f: AccountFixture) => void | Promise<void>): void {
  storeFixture(async (t) => {
    const a = await t.store.createAccount(address, "pw");
    const inbox = (await t.store.getMailbox(a.id, "INBOX"))!;
    const other = await t.store.createMailbox(a.id, "Other");
    t.events.length = 0;
    await set({ t, a, inbox, other });
  });
}
