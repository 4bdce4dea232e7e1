// The four steps of recording a delivery attempt (record.ts), each on its own.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { eq } from "drizzle-orm";
import * as v from "valibot";
import { ConfigSchema } from "../config.ts";
import { openDb, type Db } from "../db/open.ts";
import { spool } from "../db/schema.ts";
import { createHooks } from "../hooks.ts";
import { createLogger } from "../log.ts";
import { createStore, type StoreImpl } from "../store/index.ts";
import type { Logger } from "../types.ts";
import type { RecipientResult } from "../delivery/index.ts";
import { createSpool } from "./index.ts";
import { askRetry, classify, dsnRecipients, noticeGroups, persistOutcomes, reportOutcomes, wantsDsn, type Outcome, type Row } from "./record.ts";

const HOUR = 3_600_000;
const schedule = { retry: [60_000], maxAge: 24 * HOUR, warnAfter: 4 * HOUR };
const now = 1_000_000_000_000;

function row(over: Partial<Row> = {}): Row {
  return {
    id: 1,
    msgId: "m1",
    blobId: "b",
    prefix: "",
    mailFrom: "alice@a.test",
    recipient: "bob@b.test",
    domain: "b.test",
    status: "inflight",
    attempts: 2,
    nextAttempt: now + 60_000,
    leaseOwner: "me",
    leaseUntil: now + 1000,
    lastError: null,
    dsn: null,
    internal: false,
    warned: false,
    size: 10,
    createdAt: now - HOUR,
    updatedAt: now,
    ...over,
  };
}
const result = (address: string, over: Partial<RecipientResult> = {}): RecipientResult => ({ address, ok: false, permanent: false, reply: "451 later", status: "4.0.0", ...over });

test("classify: delivered, failed, deferred; a missing result defers; a stop hands back; too old fails", () => {
  const rows = [row({ id: 1, recipient: "a@b.test" }), row({ id: 2, recipient: "b@b.test" }), row({ id: 3, recipient: "c@b.test" }), row({ id: 4, recipient: "d@b.test" })];
  const results = [result("a@b.test", { ok: true, reply: "250 ok", status: "2.0.0" }), result("b@b.test", { permanent: true, reply: "550 no", status: "5.1.1" }), result("c@b.test")];
  expect(classify(rows, results, { now, stopping: false, schedule }).map((x) => [x.status, x.why, x.attempts])).toEqual([
    ["delivered", "250 ok", 2],
    ["failed", "550 no", 2],
    ["deferred", "451 later", 2],
    ["deferred", "no result", 2],
  ]);
  const stopped = classify([row()], [result("bob@b.test")], { now, stopping: true, schedule })[0]!;
  expect([stopped.status, stopped.next, stopped.attempts]).toEqual(["queued", now, 1]);
  const old = classify([row({ createdAt: now - 25 * HOUR })], [result("bob@b.test")], { now, stopping: false, schedule })[0]!;
  expect([old.status, old.why, old.res.status]).toEqual(["failed", "451 later (gave up after 2 attempts)", "4.4.7"]);
});

test("askRetry: the deferred hook's first retry answer moves the next attempt, only of deferred rows", async () => {
  const hooks = createHooks(createLogger("error"));
  const asked: string[] = [];
  hooks.on("deferred", (info) => (asked.push(info.recipient), { kind: "pass" }));
  hooks.on("deferred", () => ({ kind: "retry", retryAt: 42 }));
  hooks.on("deferred", () => ({ kind: "retry", retryAt: 43 }));
  const xs = classify([row({ recipient: "x@b.test" }), row({ recipient: "y@b.test" })], [result("x@b.test"), result("y@b.test", { ok: true })], { now, stopping: false, schedule });
  await askRetry(hooks, xs);
  expect(xs.map((x) => x.next)).toEqual([42, now + 60_000]);
  expect(asked).toEqual(["x@b.test"]);
});

test("notices: who gets which notification (RFC 3461 NOTIFY), and its DSN fields", () => {
  expect(wantsDsn(row(), "FAILURE")).toBe(true);
  expect(wantsDsn(row(), "SUCCESS")).toBe(false);
  expect(wantsDsn(row({ mailFrom: "" }), "FAILURE")).toBe(false);
  expect(wantsDsn(row({ internal: true }), "FAILURE")).toBe(false);
  expect(wantsDsn(row({ dsn: JSON.stringify({ notify: ["NEVER"] }) }), "FAILURE")).toBe(false);
  expect(wantsDsn(row({ dsn: JSON.stringify({ notify: ["SUCCESS"] }) }), "SUCCESS")).toBe(true);
  const xs: Outcome[] = classify(
    [
      row({ recipient: "f@b.test" }),
      row({ recipient: "d@b.test", createdAt: now - 5 * HOUR }),
      row({ recipient: "w@b.test", createdAt: now - 5 * HOUR, warned: true }),
      row({ recipient: "r@b.test", dsn: JSON.stringify({ notify: ["SUCCESS"], orcpt: "rfc822;R@b.test" }) }),
    ],
    [
      result("f@b.test", { permanent: true, reply: "550 no", status: "5.1.1" }),
      result("d@b.test"),
      result("w@b.test"),
      result("r@b.test", { ok: true, relayed: true, reply: "250", status: "2.0.0", remoteMta: "mx.b.test" }),
    ],
    { now, stopping: false, schedule },
  );
  const g = noticeGroups(xs, now, schedule);
  expect([g.failed, g.delayed, g.relayed].map((l) => l.map((x) => x.row.recipient))).toEqual([["f@b.test"], ["d@b.test"], ["r@b.test"]]);
  expect(noticeGroups(xs, now, { ...schedule, warnAfter: 0 }).delayed).toEqual([]);
  expect(dsnRecipients(g.relayed, "relayed", now, schedule)).toEqual([
    { address: "r@b.test", orcpt: "rfc822;R@b.test", action: "relayed", status: "2.0.0", diagnostic: "250", remoteMta: "mx.b.test", lastAttempt: now, willRetryUntil: undefined },
  ]);
  expect(dsnRecipients(g.delayed, "delayed", now, schedule)[0]!.willRetryUntil).toBe(now - 5 * HOUR + schedule.maxAge);
});

test("reportOutcomes: one log line per outcome, the hooks told, true when a notice goes out", async () => {
  const lines: string[] = [];
  const log = { info: (m: string, f?: Record<string, unknown>) => lines.push(`${m} ${f?.to}`) } as unknown as Logger;
  const hooks = createHooks(createLogger("error"));
  const told: string[] = [];
  hooks.on("delivered", (i) => void told.push(`delivered ${i.recipient}`));
  hooks.on("bounced", (i) => void told.push(`bounced ${i.recipient}`));
  hooks.on("message.queued", (i) => void told.push(`queued ${i.id}`));
  const xs = classify(
    [row({ recipient: "a@b.test" }), row({ recipient: "b@b.test" }), row({ recipient: "c@b.test" })],
    [result("a@b.test", { ok: true }), result("b@b.test", { permanent: true }), result("c@b.test")],
    { now, stopping: false, schedule },
  );
  const local = { id: "n1", msg: { raw: new Uint8Array(), prefix: [], mailFrom: "", local: [{ accountId: 1, mailbox: "INBOX" }], remote: [] }, prep: {} as never };
  expect(reportOutcomes(log, hooks, xs, [local])).toBe(false);
  const remote = { ...local, id: "n2", msg: { ...local.msg, remote: [{ address: "alice@elsewhere.test" }] } };
  expect(reportOutcomes(log, hooks, xs.slice(0, 0), [remote])).toBe(true);
  await Bun.sleep(5);
  expect(lines).toEqual(["delivered a@b.test", "delivery failed b@b.test", "delivery deferred c@b.test"]);
  expect(told).toEqual(["delivered a@b.test", "bounced b@b.test", "queued n2"]);
});

describe_persist();
function describe_persist() {
  let dir: string;
  let db: Db;
  let store: StoreImpl;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "kp-record-"));
    db = await openDb({ url: `file:${join(dir, "db.sqlite")}` });
    store = await createStore({ db, blobDir: join(dir, "blobs"), log: createLogger("error"), gc: { intervalMs: 0 } });
  });
  afterAll(async () => {
    await store.close();
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test("persistOutcomes: rows still leased by us are written, others left alone; the blob is released when all are final", async () => {
    const config = v.parse(ConfigSchema, { hostname: "mx.a.test" });
    const s = createSpool({ db, store, config, log: createLogger("error"), hooks: createHooks(createLogger("error")) });
    const { id } = await s.accept({
      raw: Buffer.from("Subject: x\r\n\r\nbody\r\n"),
      prefix: [],
      mailFrom: "alice@a.test",
      local: [],
      remote: [{ address: "a@b.test" }, { address: "b@b.test" }, { address: "c@b.test" }],
    });
    await db.write((tx) => tx.orm.update(spool).set({ status: "inflight", leaseOwner: "me", leaseUntil: now }).where(eq(spool.msgId, id)));
    await db.write((tx) => tx.orm.update(spool).set({ leaseOwner: "other" }).where(eq(spool.recipient, "c@b.test")));
    const rows = await db.orm.select().from(spool).where(eq(spool.msgId, id)).orderBy(spool.recipient);
    const xs = classify(rows, [result("a@b.test", { ok: true, reply: "250 ok" }), result("b@b.test", { permanent: true, reply: "550 no" }), result("c@b.test", { ok: true })], {
      now,
      stopping: false,
      schedule,
    });
    await db.write((tx) => persistOutcomes(tx, { store, owner: "me", now, outcomes: xs, warned: new Set([xs[1]!]), notices: [] }));
    const after = await db.orm.select().from(spool).where(eq(spool.msgId, id)).orderBy(spool.recipient);
    expect(after.map((r) => [r.recipient, r.status, r.lastError, r.leaseOwner, r.warned])).toEqual([
      ["a@b.test", "delivered", "250 ok", null, false],
      ["b@b.test", "failed", "550 no", null, true],
      ["c@b.test", "inflight", null, "other", false],
    ]);
    // c is still pending: the blob stays referenced; store.check agrees with the counts.
    expect(await store.check()).toEqual([]);
  });
}
