// Test fixture for crash.test.ts: appends forever with 10 concurrent writers and prints
// each acknowledged UID; the test SIGKILLs it mid-flight.
import { join } from "node:path";
import { openDb } from "../db/open.ts";
import { createStore } from "./index.ts";
import { silentLog } from "./test-helpers.ts";

const dir = process.argv[2]!;
const db = await openDb({ url: `file:${join(dir, "k.db")}` });
const store = await createStore({ db, blobDir: join(dir, "blobs"), log: silentLog, gc: { intervalMs: 0 } });
const acct = (await store.getAccount("u@a.test")) ?? (await store.createAccount("u@a.test", "pw"));
const inbox = (await store.getMailbox(acct.id, "INBOX"))!;
process.stdout.write("ready\n");
let i = 0;
await Promise.all(
  Array.from({ length: 10 }, async () => {
    for (;;) {
      const n = i++;
      const r = await store.append(inbox.id, new TextEncoder().encode(`Subject: crash ${n}\r\n\r\n${"body ".repeat(n % 500)}\r\n`));
      process.stdout.write(`${r.uid}\n`);
    }
  }),
);
