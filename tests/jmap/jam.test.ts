// jmap-jam (npm, a JMAP client others wrote) drives the mail flows of RFC 8621 against
// the running server: discovery, mailboxes, a message delivered by SMTP, keywords, move,
// destroy, an upload sent as an attachment through EmailSubmission — and the recipient's
// IMAP client (imapflow) gets it byte for byte.
import { afterAll, beforeAll, expect, test } from "bun:test";
import JamClient from "jmap-jam";
import { ImapFlow } from "imapflow";
import nodemailer from "nodemailer";
import type { TestServer } from "../helpers/server.ts";
import { ALICE, BOB, startJmap } from "./helpers.ts";

let srv: TestServer;
let jam: JamClient;
let accountId: string;
const realFetch = globalThis.fetch;

beforeAll(async () => {
  srv = await startJmap();
  // jmap-jam only sends "Authorization: Bearer <token>"; the server speaks HTTP Basic
  // (the auth), so the token is user:password in base64 and only the scheme word
  // is rewritten on the way out.
  globalThis.fetch = ((input: string | URL | Request, init: RequestInit = {}) => {
    const h = new Headers(init.headers);
    const a = h.get("authorization");
    if (a?.startsWith("Bearer ")) h.set("authorization", "Basic " + a.slice(7));
    return realFetch(input, { ...init, headers: h });
  }) as typeof fetch;
  jam = new JamClient({ sessionUrl: `http://127.0.0.1:${srv.port("http")}/.well-known/jmap`, bearerToken: Buffer.from(`${ALICE.address}:${ALICE.password}`).toString("base64") });
  accountId = await jam.getPrimaryAccount();
}, 30_000);
afterAll(async () => {
  globalThis.fetch = realFetch;
  await srv.cleanup();
});

// Not a literal in the call: imapflow's TlsOptions type lacks servername (node's has it).
const tlsOptions = { rejectUnauthorized: false, servername: "mx.example.test" };

function imap(user: { address: string; password: string }): ImapFlow {
  return new ImapFlow({ host: "127.0.0.1", port: srv.port("imap"), secure: false, tls: tlsOptions, auth: { user: user.address, pass: user.password }, logger: false });
}

async function mailboxIds(): Promise<Record<string, string>> {
  const [r] = await jam.api.Mailbox.get({ accountId });
  return Object.fromEntries(r.list.map((m) => [m.role ?? m.name, m.id]));
}

test("session discovery and the mailbox list with roles and counts", async () => {
  const session = await jam.session;
  expect(session.username).toBe(ALICE.address);
  expect(accountId).toMatch(/^a/);
  const [r] = await jam.api.Mailbox.get({ accountId });
  const roles = r.list.map((m) => m.role).sort();
  expect(roles).toEqual(["archive", "drafts", "inbox", "junk", "sent", "trash"]);
  const inbox = r.list.find((m) => m.role === "inbox")!;
  expect(inbox).toMatchObject({ name: "INBOX", parentId: null, totalEmails: 0, unreadEmails: 0, isSubscribed: true });
});

test("a message delivered by SMTP: query + get, keywords, move (same id), destroy", async () => {
  const t = nodemailer.createTransport({ host: "127.0.0.1", port: srv.port("smtp"), secure: false, ignoreTLS: true });
  await t.sendMail({ from: "Carol <carol@remote.test>", to: ALICE.address, subject: "Hello from SMTP", text: "first line\nsecond line\n", messageId: "<smtp-1@remote.test>" });
  const boxes = await mailboxIds();
  const [{ q, g }] = await jam.requestMany((b) => {
    const q = b.Email.query({ accountId, filter: { inMailbox: boxes.inbox! }, sort: [{ property: "receivedAt", isAscending: false }], collapseThreads: true, calculateTotal: true });
    const g = b.Email.get({
      accountId,
      ids: q.$ref("/ids"),
      properties: ["id", "subject", "from", "mailboxIds", "keywords", "messageId", "textBody", "bodyValues", "threadId"],
      fetchTextBodyValues: true,
    });
    return { q, g };
  });
  expect(q.total).toBe(1);
  const email = g.list[0]!;
  expect(email.subject).toBe("Hello from SMTP");
  expect(email.from).toEqual([{ name: "Carol", email: "carol@remote.test" }]);
  expect(email.messageId).toEqual(["smtp-1@remote.test"]);
  expect(email.keywords).toEqual({});
  const part = email.textBody![0]!.partId!;
  expect(email.bodyValues![part]!.value).toBe("first line\nsecond line\n");

  const [s1] = await jam.api.Email.set({ accountId, update: { [email.id]: { keywords: { $seen: true, $flagged: true } } } });
  expect(s1.updated).toEqual({ [email.id]: null });
  const c = imap(ALICE);
  await c.connect();
  try {
    const lock = await c.getMailboxLock("INBOX");
    const m = await c.fetchOne("1", { flags: true });
    // \Recent is this (IMAP4rev1) session's own, not a keyword JMAP set (RFC 3501 §2.3.2)
    expect([...(m as { flags: Set<string> }).flags].filter((f) => f !== "\\Recent").sort()).toEqual(["\\Flagged", "\\Seen"]);
    lock.release();

    const [s2] = await jam.api.Email.set({ accountId, update: { [email.id]: { [`mailboxIds/${boxes.inbox}`]: null, [`mailboxIds/${boxes.archive}`]: true } } });
    expect(s2.updated).toEqual({ [email.id]: null });
    const [after] = await jam.api.Email.get({ accountId, ids: [email.id], properties: ["id", "mailboxIds", "keywords", "threadId"] });
    expect(after.list[0]).toEqual({ id: email.id, mailboxIds: { [boxes.archive!]: true }, keywords: { $seen: true, $flagged: true }, threadId: email.threadId });
    expect((await c.status("INBOX", { messages: true })).messages).toBe(0);
    expect((await c.status("Archive", { messages: true })).messages).toBe(1);

    const [s3] = await jam.api.Email.set({ accountId, destroy: [email.id] });
    expect(s3.destroyed).toEqual([email.id]);
    const [gone] = await jam.api.Email.get({ accountId, ids: [email.id] });
    expect(gone.notFound).toEqual([email.id]);
    expect((await c.status("Archive", { messages: true })).messages).toBe(0);
  } finally {
    await c.logout();
  }
});

test("upload a blob, send it as an attachment through EmailSubmission; Bob's IMAP gets it byte-correct", async () => {
  const attachment = new Uint8Array(3000).map((_, i) => (i * 7 + 3) % 256);
  const up = await jam.uploadBlob(accountId, new Blob([attachment], { type: "application/octet-stream" }));
  expect(up.size).toBe(3000);
  const boxes = await mailboxIds();
  const [identities] = await jam.api.Identity.get({ accountId });
  const identity = identities.list.find((i) => i.email === ALICE.address)!;
  const [{ set, sub }] = await jam.requestMany((b) => {
    const set = b.Email.set({
      accountId,
      create: {
        draft: {
          mailboxIds: { [boxes.drafts!]: true },
          keywords: { $draft: true, $seen: true },
          from: [{ name: "Alice", email: ALICE.address }],
          to: [{ name: "Bob", email: BOB.address }],
          subject: "Report attached",
          textBody: [{ partId: "t", type: "text/plain" }],
          bodyValues: { t: { value: "See the attachment.\r\n" } },
          attachments: [{ blobId: up.blobId, type: "application/octet-stream", name: "data.bin" }],
          // jam's types want the server-set part fields (size …) on create too.
        } as never,
      },
    });
    const sub = b.EmailSubmission.set({
      accountId,
      create: { send: { identityId: identity.id, emailId: "#draft" } },
      onSuccessUpdateEmail: { "#send": { [`mailboxIds/${boxes.drafts}`]: null, [`mailboxIds/${boxes.sent}`]: true, "keywords/$draft": null } as never },
    });
    return { set, sub };
  });
  const draftId = (set as { created: Record<string, { id: string }> }).created.draft!.id;
  // The implicit Email/set (RFC 8621 §7.5) answers with the same call id, so jam keeps it.
  expect((sub as unknown as { updated: Record<string, null> }).updated).toEqual({ [draftId]: null });
  const [subs] = await jam.api.EmailSubmission.get({ accountId });
  expect(subs.list).toEqual([expect.objectContaining({ emailId: draftId, identityId: identity.id, undoStatus: "final" })]);
  expect(subs.list[0]!.envelope as unknown).toEqual({ mailFrom: { email: ALICE.address, parameters: null }, rcptTo: [{ email: BOB.address, parameters: null }] });
  // onSuccessUpdateEmail moved it to Sent and cleared $draft (same email id).
  const [sent] = await jam.api.Email.get({ accountId, ids: [draftId], properties: ["mailboxIds", "keywords", "blobId", "attachments"] });
  expect(sent.list[0]!.mailboxIds).toEqual({ [boxes.sent!]: true });
  expect(sent.list[0]!.keywords).toEqual({ $seen: true });
  const sentAttachment = sent.list[0]!.attachments![0]!;
  expect(sentAttachment).toMatchObject({ name: "data.bin", type: "application/octet-stream", size: 3000 });
  const dl = await jam.downloadBlob({ accountId, blobId: sentAttachment.blobId!, mimeType: "application/octet-stream", fileName: "data.bin" });
  expect(new Uint8Array(await dl.arrayBuffer())).toEqual(attachment);
  const draftBytes = new Uint8Array(await (await jam.downloadBlob({ accountId, blobId: sent.list[0]!.blobId, mimeType: "message/rfc822", fileName: "m.eml" })).arrayBuffer());

  const c = imap(BOB);
  await c.connect();
  try {
    const lock = await c.getMailboxLock("INBOX");
    const m = (await c.fetchOne("*", { source: true, envelope: true })) as { source: Buffer; envelope: { subject: string } };
    lock.release();
    expect(m.envelope.subject).toBe("Report attached");
    // Bob's copy = our added header lines + the draft exactly (it had no Bcc to remove).
    const got = new Uint8Array(m.source);
    expect(got.subarray(got.length - draftBytes.length)).toEqual(draftBytes);
    expect(Buffer.from(got.subarray(0, got.length - draftBytes.length)).toString()).toMatch(/^(?:[\x21-\x39\x3b-\x7e]+:.*\r\n(?:[ \t].*\r\n)*)+$/);
  } finally {
    await c.logout();
  }
}, 20_000);
