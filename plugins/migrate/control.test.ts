// Jobs inside a server: one whose client stops polling is stopped; a new run for the same
// account takes over from one still running (and finds what the first one wrote).
import { afterEach, beforeEach, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { makeStore, silentLog, type TestStore } from "../../core/store/test-helpers.ts";
import { createJobRunner, type JobStatus } from "./control.ts";

let t: TestStore;
let runner: ReturnType<typeof createJobRunner>;
let mbox = "";
const N = 2000;
beforeEach(async () => {
  t = await makeStore();
  await t.store.addDomain("example.test");
  await t.store.createAccount("a@example.test", "pw");
  runner = createJobRunner({ store: t.store, db: t.db, log: silentLog });
  mbox = join(t.dir, "big.mbox");
  writeFileSync(mbox, Array.from({ length: N }, (_, i) => `From x@y Mon Jan  1 10:00:00 2024\nFrom: x@y.test\nSubject: ${i}\n\n${"body line\n".repeat(50)}\n`).join(""));
});
afterEach(async () => {
  await runner.stop();
  expect(await t.store.check()).toEqual([]);
  await t.cleanup();
});

async function until(id: string, poll: boolean): Promise<JobStatus> {
  for (;;) {
    await Bun.sleep(poll ? 50 : 1000);
    const st = runner.status(id);
    if (st.done) return st;
  }
}

test("a job nobody polls is stopped after the abandon time, with what it wrote committed", async () => {
  await runner.stop();
  runner = createJobRunner({ store: t.store, db: t.db, log: silentLog }, { abandonMs: 200 });
  const id = await runner.start({ kind: "import", address: "a@example.test", path: mbox });
  const st = await until(id, false);
  expect(st.error).toBeUndefined();
  expect(st.report!.found).toBeLessThan(N);
  const inbox = (await t.store.getMailbox((await t.store.getAccount("a@example.test"))!.id, "INBOX"))!;
  expect(inbox.messages).toBe(st.report!.imported);
}, 60_000);

test("a new job for the account takes over; together nothing is missing or twice", async () => {
  const first = await runner.start({ kind: "import", address: "a@example.test", path: mbox });
  await Bun.sleep(150);
  const second = await runner.start({ kind: "import", address: "a@example.test", path: mbox });
  const a = runner.status(first);
  expect(a.done).toBe(true);
  const b = await until(second, true);
  expect(b.report!.found).toBe(N);
  expect(b.report!.imported + b.report!.existing).toBe(N);
  const inbox = (await t.store.getMailbox((await t.store.getAccount("a@example.test"))!.id, "INBOX"))!;
  expect(inbox.messages).toBe(N);
}, 60_000);

test("a failing job reports its error line; unknown jobs are an error", async () => {
  const id = await runner.start({ kind: "import", address: "nobody@example.test", path: mbox });
  const st = await until(id, true);
  expect(st.error).toBe("no account nobody@example.test");
  expect(() => runner.status("j999")).toThrow("no job j999");
}, 60_000);
