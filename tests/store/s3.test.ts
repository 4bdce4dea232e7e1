// Blobs in S3 (`blobs.url`), against s3rver on loopback: mail in over SMTP is stored as
// objects and read back over IMAP (python imaplib); GC erases an expunged message's object;
// while the S3 API is down a message gets 451 and nothing is committed.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import { startS3, type TestS3 } from "../helpers/s3.ts";
import { pySend } from "../helpers/smtp.ts";
import { python } from "../helpers/imap.ts";
import type { StoreImpl } from "../../core/store/index.ts";
import { rmSync } from "node:fs";

let s3: TestS3;
let s: TestServer;
const ANN = { address: "ann@example.test", password: "ann-pw-1" };

const start = (dataDir?: string) =>
  startTestServer({
    users: [ANN],
    dataDir,
    keepData: true,
    config: {
      plugins: { disabled: ["mailauth"] },
      blobs: { url: `s3://${s3.bucket}/kp`, endpoint: s3.endpoint, region: "us-east-1" },
    },
  });

beforeAll(async () => {
  s3 = await startS3();
  s = await start();
}, 30_000);
afterAll(async () => {
  await s?.cleanup();
  if (s) rmSync(s.dataDir, { recursive: true, force: true });
  await s3?.cleanup();
});
process.env.AWS_ACCESS_KEY_ID ??= "S3RVER";
process.env.AWS_SECRET_ACCESS_KEY ??= "S3RVER";

const FETCH = `
import imaplib, sys, json
c = imaplib.IMAP4("127.0.0.1", int(sys.argv[1]))
c.login(sys.argv[2], sys.argv[3])
c.select("INBOX")
typ, data = c.uid("FETCH", "1:*", "(BODY.PEEK[])")
print(json.dumps([p[1].decode("latin1") for p in data if isinstance(p, tuple)]))
c.logout()
`;

test("SMTP in, objects in S3, IMAP out byte for byte; GC erases the object of an expunged message", async () => {
  const body = `Subject: kept in s3\r\n\r\n${"an object in a bucket\r\n".repeat(50)}`;
  expect((await pySend(s.port("smtp"), { from: "x@remote.test", to: [ANN.address], msg: body })).ok).toBe(true);
  const keys = await s3.keys("kp/");
  expect(keys.length).toBe(1);
  expect(keys[0]).toMatch(/^kp\/[0-9a-f]{2}\/[0-9a-f]{64}$/);
  const got = JSON.parse(await python(FETCH, [String(s.port("imap")), ANN.address, ANN.password])) as string[];
  expect(got.length).toBe(1);
  expect(got[0]!.endsWith(body)).toBe(true);

  // expunge it and collect with no grace: the object goes
  const store = s.core.store as StoreImpl;
  const acct = (await store.getAccount(ANN.address))!;
  const inbox = (await store.getMailbox(acct.id, "INBOX"))!;
  const [m] = await store.messages(inbox.id);
  await store.setFlags(inbox.id, [m!.uid], "add", ["\\Deleted"]);
  await store.expunge(inbox.id);
  // a restarted server holds no pins of its own deliveries: GC may erase at once
  await s.stop();
  s = await start(s.dataDir);
  const r = await (s.core.store as StoreImpl).gc({ graceMs: 0, orphanFileAgeMs: 60_000 });
  expect(r.erased).toBe(1);
  for (let i = 0; i < 50 && (await s3.keys("kp/")).length > 0; i++) await Bun.sleep(20);
  expect(await s3.keys("kp/")).toEqual([]);
}, 30_000);

test("the S3 API down: 451 to DATA and nothing committed; back up: mail flows again", async () => {
  const store = s.core.store;
  const acct = (await store.getAccount(ANN.address))!;
  const inbox = (await store.getMailbox(acct.id, "INBOX"))!;
  const before = (await store.getMailboxById(inbox.id))!.messages;
  await s3.stop();
  const r = await pySend(s.port("smtp"), { from: "x@remote.test", to: [ANN.address], msg: "Subject: during the outage\r\n\r\nlost?\r\n" });
  expect(r.ok).toBe(false);
  expect(r.code).toBe(451);
  expect((await store.getMailboxById(inbox.id))!.messages).toBe(before);
  const blobRows = await s.core.db.query("SELECT count(*) AS n FROM blobs");
  expect(Number(blobRows.rows[0]!.n)).toBe(0);
  await s3.restart();
  expect((await pySend(s.port("smtp"), { from: "x@remote.test", to: [ANN.address], msg: "Subject: after\r\n\r\nfine\r\n" })).ok).toBe(true);
  expect((await store.getMailboxById(inbox.id))!.messages).toBe(before + 1);
}, 60_000);
