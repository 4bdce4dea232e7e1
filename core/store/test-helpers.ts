// Shared setup for the store's unit tests: a fresh database and blob dir per test, and a
// consistency check after each.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openDb, type Db } from "../db/open.ts";
import type { Logger } from "../types.ts";
import { createStore, type StoreImpl, type StoreOptions } from "./index.ts";
import type { StoreChange } from "./types.ts";

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
