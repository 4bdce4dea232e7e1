// The embedded database's WAL made durable off the event loop. With synchronous=NORMAL a
// COMMIT writes its WAL frames without syncing them; the group commit (open.ts) then calls
// sync() before telling any writer its transaction is done, so "committed" still means
// "on disk" — but the fdatasync runs on Bun's thread pool, not on the thread that serves
// every session (with FULL, SQLite's own fsync inside COMMIT blocked it for the whole
// device flush: a quarter of the IMAP main thread's time under the mixed load).
import { open, type FileHandle } from "node:fs/promises";

export interface WalSync {
  /** fdatasync the WAL file (its frames of every COMMIT made so far). */
  sync(): Promise<void>;
  /** How many syncs completed (tests, stats). */
  readonly count: number;
  close(): void;
}

export function createWalSync(dbPath: string): WalSync {
  const walPath = `${dbPath}-wal`;
  let handle: Promise<FileHandle> | null = null;
  let count = 0;
  const fresh = (): Promise<FileHandle> => (handle = open(walPath, "r"));
  return {
    async sync() {
      try {
        await (await (handle ?? fresh())).datasync();
      } catch (err) {
        // The writers' error (never retried: after a failed fsync Linux may report the
        // next one clean with the data lost); the next sync starts on a new handle.
        const old = handle;
        handle = null;
        void old?.then((h) => h.close()).catch(() => {});
        throw err;
      }
      count++;
    },
    get count() {
      return count;
    },
    close() {
      void handle?.then((h) => h.close()).catch(() => {});
      handle = null;
    },
  };
}
