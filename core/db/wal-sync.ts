// The WAL fsync of the group commit, off the event loop. With synchronous=FULL SQLite
// fsyncs the WAL inside COMMIT, on the main thread: every session stalls for the length
// of the fsync and no new writes can queue meanwhile. The write connection runs with
// synchronous=NORMAL instead (in WAL mode: consistent after a crash; the WAL is fsynced
// before each checkpoint, the database after it) and the group commit fsyncs the WAL file
// itself, on the thread pool, before any writer of the batch is told "done": the same
// guarantee as FULL. Commits that land while an fsync runs share the next one; groups
// complete in commit order, so an acknowledged write implies every earlier one is durable.
import fs from "node:fs";

export interface WalSync {
  /** Resolves once everything committed before the call is on disk. */
  durable(): Promise<void>;
  /** True while an fsync runs or waits. */
  readonly busy: boolean;
  /** Closes the WAL file (after the last fsync). */
  close(): void;
}

export function walSync(dbPath: string): WalSync {
  let fd: number | null = null;
  let running = false;
  let waiting: { resolve: () => void; reject: (e: unknown) => void }[] = [];

  const fsyncWal = () =>
    new Promise<void>((resolve, reject) => {
      // Opened at the first commit: the WAL exists from then on, as long as the write
      // connection is open (SQLite removes it only when the last connection closes).
      if (fd === null) fd = fs.openSync(`${dbPath}-wal`, "r");
      fs.fsync(fd, (e) => (e ? reject(e) : resolve()));
    });

  async function run(): Promise<void> {
    running = true;
    try {
      while (waiting.length) {
        const group = waiting;
        waiting = [];
        try {
          await fsyncWal();
          for (const w of group) w.resolve();
        } catch (e) {
          for (const w of group) w.reject(e);
        }
      }
    } finally {
      running = false;
    }
  }

  return {
    durable() {
      return new Promise<void>((resolve, reject) => {
        waiting.push({ resolve, reject });
        if (!running) void run();
      });
    },
    get busy() {
      return running || waiting.length > 0;
    },
    close() {
      if (fd !== null) fs.closeSync(fd);
      fd = null;
    },
  };
}
