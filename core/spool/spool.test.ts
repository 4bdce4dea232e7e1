// The spool end to end below the SMTP server: accept → scheduler → delivery to
// Python's aiosmtpd, with a test DNS server; bounces, retries, leases.
import { afterAll, afterEach, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import net from "node:net";
import { eq } from "drizzle-orm";
import { openDb, type Db } from "../db/open.ts";
import { blobs, spool } from "../db/schema.ts";
import { createHooks } from "../hooks.ts";
import { registerDefaultRouting } from "../route.ts";
import { createLogger } from "../log.ts";
import * as v from "valibot";
import { ConfigSchema } from "../config.ts";
import { createResolver } from "../dns/index.ts";
import { createSpool } from "./index.ts";
import { createStore, type StoreImpl } from "../store/index.ts";
import { startTestDns, type TestDns } from "../../tests/helpers/dns-server.ts";
import { startAiosmtpd, freePort, type Aiosmtpd } from "../../tests/helpers/aiosmtpd.ts";
import { until } from "../../tests/helpers/until.ts";

let dns: TestDns;
let peer: Aiosmtpd;
let dir: string;
let db: Db;
let store: StoreImpl;
let aliceId: number;
const started: { stop(): Promise<void> }[] = [];

beforeAll(async () => {
  [dns, peer] = await Promise.all([startTestDns(), startAiosmtpd()]);
  dns.set("b.test", { MX: [{ exchange: "mx.b.test", priority: 10 }] });
  dns.set("mx.b.test", { A: ["127.0.0.1"] });
  dns.set("two.test", {
    MX: [
      { exchange: "down.two.test", priority: 5 },
      { exchange: "mx.b.test", priority: 10 },
    ],
  });
  dns.set("down.two.test", { A: ["127.0.0.2"] }); // loopback, nothing listens there
  dns.set("nullmx.test", { MX: [{ exchange: "", priority: 0 }] });
  dir = mkdtempSync(join(tmpdir(), "kp-spool-"));
  db = await openDb({ url: `file:${join(dir, "db.sqlite")}` });
  store = await createStore({ db, blobDir: join(dir, "blobs"), log: createLogger("error"), gc: { intervalMs: 0 } });
  await store.addDomain("a.test");
  aliceId = (await store.createAccount("alice@a.test", "pw-alice-123")).id;
});
afterEach(async () => {
  for (const s of started.splice(0)) await s.stop();
  // Counts, UIDs and blob refcounts (one per spool message with a pending row) agree.
  expect(await store.check()).toEqual([]);
});

/** Alice's INBOX, each message as text. */
async function aliceInbox(): Promise<string[]> {
  const box = (await store.getMailbox(aliceId, "INBOX"))!;
  return Promise.all((await store.messages(box.id)).map(async (m) => Buffer.from(await store.read(m)).toString()));
}
afterAll(async () => {
  await store.close();
  await db.close();
  await Promise.all([dns.close(), peer.stop()]);
  rmSync(dir, { recursive: true, force: true });
});

function makeSpool(over: { retry?: string[]; port?: number; warnAfter?: string } = {}) {
  const config = v.parse(ConfigSchema, {
    hostname: "mx.a.test",
    dns: { servers: [dns.server], timeout: "1s" },
    delivery: { port: over.port ?? peer.port, retry: over.retry ?? ["1s"], maxAge: "1h", warnAfter: over.warnAfter ?? "" },
  });
  const hooks = createHooks(createLogger("error"));
  // As in the server: notices are routed by the core's default handlers.
  registerDefaultRouting(hooks, store);
  const s = createSpool({ db, store, config, log: createLogger("error"), hooks, resolver: createResolver({ servers: [dns.server], timeoutMs: 1000 }), pollMs: 100 });
  started.push(s);
  return { spool: s, hooks };
}

const message = (subject: string) => new TextEncoder().encode(`From: alice@a.test\r\nTo: bob@b.test\r\nSubject: ${subject}\r\nMessage-ID: <${subject}@a.test>\r\n\r\nhi\r\n`);

const rows = (id: string) => db.orm.select().from(spool).where(eq(spool.msgId, id));

test("accepted remote mail is delivered, rows become final, the blob reference is released", async () => {
  const { spool: s, hooks } = makeSpool();
  const delivered: string[] = [];
  hooks.on("delivered", (info) => void delivered.push(info.recipient));
  s.start();
  const { id } = await s.accept({
    raw: message("first"),
    prefix: ["Received: by mx.a.test\r\n"],
    mailFrom: "alice@a.test",
    local: [],
    remote: [{ address: "bob@b.test" }, { address: "carol@b.test" }],
  });
  const got = await until("delivery", () => peer.messages().find((m) => m.data.includes("Subject: first")));
  expect(got.rcptTo.sort()).toEqual(["bob@b.test", "carol@b.test"]); // one transaction for both
  expect(got.data).toStartWith("Received: by mx.a.test\r\nFrom: alice@a.test");
  expect(got.helo).toBe("mx.a.test");
  await until("rows final", async () => (await rows(id)).every((r) => r.status === "delivered"));
  const r = await rows(id);
  expect(r.map((x) => x.attempts)).toEqual([1, 1]);
  const [b] = await db.orm.select().from(blobs).where(eq(blobs.id, r[0]!.blobId));
  expect(b!.refcount).toBe(0);
  await until("delivered hook", () => delivered.length === 2);
});

test("5xx fails the recipient and bounces to the local sender's INBOX; 4xx defers with attempts written", async () => {
  const { spool: s } = makeSpool({ retry: ["1h"] });
  s.start();
  const { id } = await s.accept({
    raw: message("mixed"),
    prefix: [],
    mailFrom: "alice@a.test",
    local: [],
    remote: [{ address: "reject-x@b.test" }, { address: "tempfail-y@b.test" }, { address: "ok@b.test" }],
  });
  await until("outcomes", async () => (await rows(id)).every((r) => r.status !== "inflight" && r.status !== "queued"));
  const byRcpt = Object.fromEntries((await rows(id)).map((r) => [r.recipient, r]));
  expect(byRcpt["reject-x@b.test"]!.status).toBe("failed");
  expect(byRcpt["reject-x@b.test"]!.lastError).toContain("550 5.1.1");
  expect(byRcpt["ok@b.test"]!.status).toBe("delivered");
  const def = byRcpt["tempfail-y@b.test"]!;
  expect(def.status).toBe("deferred");
  expect(def.attempts).toBe(1);
  expect(def.nextAttempt).toBeGreaterThan(Date.now() + 30 * 60_000);
  const bounce = await until("bounce", async () => (await aliceInbox()).find((m) => m.includes("Subject: Undelivered Mail Returned to Sender: mixed")));
  expect(bounce).toContain("Final-Recipient: rfc822; reject-x@b.test");
  expect(bounce).toContain("Status: 5.1.1");
  expect(bounce).not.toContain("Final-Recipient: rfc822; tempfail-y@b.test");
  // Admin: list shows the deferred row; delete removes it and releases the blob.
  expect((await s.list()).some((e) => e.id === id && e.recipient === "tempfail-y@b.test")).toBe(true);
  expect(await s.delete(id)).toBe(1);
  expect(await rows(id)).toEqual([]);
  const [b] = await db.orm.select().from(blobs).where(eq(blobs.id, def.blobId));
  expect(b!.refcount).toBe(0);
});

test("null MX bounces at once; no bounce for the null sender or our own bounces", async () => {
  const { spool: s } = makeSpool();
  s.start();
  const before = (await aliceInbox()).length;
  const a = await s.accept({ raw: message("nullmx"), prefix: [], mailFrom: "alice@a.test", local: [], remote: [{ address: "x@nullmx.test" }] });
  const b = await s.accept({ raw: message("nullsender"), prefix: [], mailFrom: "", local: [], remote: [{ address: "x@nullmx.test" }] });
  const c = await s.accept({ raw: message("internal"), prefix: [], mailFrom: "alice@a.test", local: [], remote: [{ address: "x@nullmx.test" }], internal: true });
  for (const id of [a.id, b.id, c.id]) await until("failed", async () => (await rows(id))[0]!.status === "failed");
  const r = (await rows(a.id))[0]!;
  expect(r.attempts).toBe(1);
  expect(r.lastError).toContain("null MX");
  const bounces = (await aliceInbox()).slice(before).filter((x) => x.includes("MAILER-DAEMON"));
  expect(bounces.length).toBe(1);
  expect(bounces[0]!).toContain("Status: 5.1.10");
  expect(bounces[0]!).toContain("Subject: Undelivered Mail Returned to Sender: nullmx");
});

test("the first MX is down: delivered through the second", async () => {
  const { spool: s } = makeSpool();
  s.start();
  const { id } = await s.accept({ raw: message("second-mx"), prefix: [], mailFrom: "alice@a.test", local: [], remote: [{ address: "bob@two.test" }] });
  await until("delivered", async () => (await rows(id))[0]!.status === "delivered");
  expect(peer.messages().some((m) => m.data.includes("Subject: second-mx"))).toBe(true);
});

test("peer down: deferred, retried on schedule, delivered when it comes back; delay warning once", async () => {
  const port = await freePort();
  const { spool: s } = makeSpool({ port, retry: ["1s"], warnAfter: "1ms" });
  s.start();
  const before = (await aliceInbox()).length;
  const { id } = await s.accept({ raw: message("later"), prefix: [], mailFrom: "alice@a.test", local: [], remote: [{ address: "bob@b.test" }] });
  await until("deferred", async () => (await rows(id))[0]!.status === "deferred");
  const late = await startAiosmtpd({ port });
  try {
    await until("delivered after retry", async () => (await rows(id))[0]!.status === "delivered");
    const r = (await rows(id))[0]!;
    expect(r.attempts).toBeGreaterThanOrEqual(2);
    expect(late.messages().filter((m) => m.data.includes("Subject: later")).length).toBe(1);
    const warnings = (await aliceInbox()).slice(before).filter((x) => x.includes("Action: delayed"));
    expect(warnings.length).toBe(1);
  } finally {
    await late.stop();
  }
});

test("two schedulers on one database never send a message twice (leases)", async () => {
  const one = makeSpool();
  const two = makeSpool();
  const ids: string[] = [];
  for (let i = 0; i < 30; i++) {
    const { id } = await one.spool.accept({ raw: message(`lease-${i}`), prefix: [], mailFrom: "alice@a.test", local: [], remote: [{ address: `u${i}@b.test` }] });
    ids.push(id);
  }
  one.spool.start();
  two.spool.start();
  await until("all delivered", async () => {
    for (const id of ids) if ((await rows(id))[0]!.status !== "delivered") return false;
    return true;
  });
  const got = peer.messages().filter((m) => m.data.includes("Subject: lease-"));
  expect(got.length).toBe(30);
  expect(new Set(got.map((m) => m.rcptTo[0])).size).toBe(30);
});

test("deliver.remote.before headers go on top; nextHop (smarthost) replaces the MX lookup", async () => {
  const { spool: s, hooks } = makeSpool();
  hooks.on("deliver.remote.before", (msg) => ({ kind: "headers", headers: [`X-Signed-For: ${msg.domain} ${msg.fromDomain}`] }));
  const seen: string[] = [];
  hooks.on("nextHop", (msg, domain) => {
    // nextHop sees the real message, not just the envelope.
    seen.push(`${msg.id} ${msg.mailFrom} ${msg.recipients.join(",")} ${msg.fromDomain} ${Buffer.from(msg.raw).includes("Subject: hooks")}`);
    return domain === "relay.test" ? { kind: "hops", hops: [{ host: "127.0.0.1", port: peer.port, preference: 0 }] } : { kind: "pass" };
  });
  s.start();
  const { id } = await s.accept({ raw: message("hooks"), prefix: ["Received: by mx.a.test\r\n"], mailFrom: "alice@a.test", local: [], remote: [{ address: "x@relay.test" }] });
  await until("delivered", async () => (await rows(id))[0]!.status === "delivered");
  const got = peer.messages().find((m) => m.data.includes("Subject: hooks"))!;
  expect(got.data).toStartWith("X-Signed-For: relay.test a.test\r\nReceived: by mx.a.test\r\n");
  expect(seen).toEqual([`${id} alice@a.test x@relay.test a.test true`]);
});

test("the deferred hook sets the retry time; queue retry makes it due now", async () => {
  const port = await freePort();
  const { spool: s, hooks } = makeSpool({ port, retry: ["1s"] });
  const far = Date.now() + 3_600_000;
  hooks.on("deferred", () => ({ kind: "retry", retryAt: far }));
  s.start();
  const { id } = await s.accept({ raw: message("hook-retry"), prefix: [], mailFrom: "alice@a.test", local: [], remote: [{ address: "bob@b.test" }] });
  await until("deferred", async () => (await rows(id))[0]!.status === "deferred");
  expect((await s.get(id))[0]!.nextAttempt).toBe(far);
  const late = await startAiosmtpd({ port });
  try {
    expect(await s.retry(id)).toBe(1);
    await until("delivered after queue retry", async () => (await rows(id))[0]!.status === "delivered");
  } finally {
    await late.stop();
  }
});

test("NOTIFY (RFC 3461): SUCCESS to a peer without DSN gets a 'relayed' report; NEVER suppresses the bounce", async () => {
  const { spool: s } = makeSpool();
  s.start();
  const before = (await aliceInbox()).length;
  const ok = await s.accept({
    raw: message("notify-success"),
    prefix: [],
    mailFrom: "alice@a.test",
    local: [],
    remote: [{ address: "bob@b.test", dsn: { notify: ["SUCCESS", "FAILURE"], orcpt: "rfc822;bob@b.test" } }],
    dsn: { envid: "ENV-1" },
  });
  const never = await s.accept({ raw: message("notify-never"), prefix: [], mailFrom: "alice@a.test", local: [], remote: [{ address: "reject-z@b.test", dsn: { notify: ["NEVER"] } }] });
  await until("both final", async () => (await rows(ok.id))[0]!.status === "delivered" && (await rows(never.id))[0]!.status === "failed");
  const report = await until("success report", async () => (await aliceInbox()).slice(before).find((m) => m.includes("Successful Mail Delivery Report")));
  expect(report).toContain("Action: relayed");
  expect(report).toContain("Original-Recipient: rfc822; bob@b.test");
  expect(report).toContain("Original-Envelope-Id: ENV-1");
  expect(report).toContain("text/rfc822-headers");
  expect((await aliceInbox()).slice(before).some((m) => m.includes("notify-never"))).toBe(false);
});

test("a bounce for a remote sender is queued and sent from the null sender; it is never bounced itself", async () => {
  const { spool: s } = makeSpool();
  s.start();
  const { id } = await s.accept({ raw: message("remote-sender"), prefix: [], mailFrom: "fwd@b.test", local: [], remote: [{ address: "reject-r@b.test" }] });
  await until("failed", async () => (await rows(id))[0]!.status === "failed");
  const dsn = await until("bounce at the sender's MX", () => peer.messages().find((m) => m.data.includes("Returned to Sender: remote-sender")));
  expect(dsn.mailFrom).toBe("<>");
  expect(dsn.rcptTo).toEqual(["fwd@b.test"]);
  const queued = (await db.orm.select().from(spool).where(eq(spool.recipient, "fwd@b.test")))[0]!;
  expect(queued.internal).toBe(true);
  expect(queued.mailFrom).toBe("");
});

test("a graceful stop in the middle of deliveries hands the rows back: queued, unleased, the attempt not counted", async () => {
  const silent = net.createServer(() => {}); // accepts, never greets
  await new Promise<void>((r) => silent.listen(0, "127.0.0.1", () => r()));
  try {
    const { spool: s } = makeSpool({ port: (silent.address() as net.AddressInfo).port });
    s.start();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await s.accept({ raw: message(`stop-${i}`), prefix: [], mailFrom: "alice@a.test", local: [], remote: [{ address: `u${i}@b.test` }] })).id);
    await until("in flight", async () => (await rows(ids[0]!))[0]!.status === "inflight");
    await s.stop();
    for (const id of ids) {
      const [r] = await rows(id);
      expect(r!.status).toBe("queued");
      expect(r!.leaseOwner).toBeNull();
      expect(r!.attempts).toBe(0);
    }
    const { spool: again } = makeSpool();
    again.start();
    for (const id of ids) await until("delivered after restart", async () => (await rows(id))[0]!.status === "delivered");
  } finally {
    silent.close();
  }
});
