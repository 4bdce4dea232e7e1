// VacationResponse (RFC 8621 §8) applied at local delivery by RFC 3834's rules: one reply
// per sender, none to a mailing list or to the null sender. Mail comes in over SMTP from
// nodemailer; Bob, the sender, reads the replies with imapflow.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { ImapFlow } from "imapflow";
import nodemailer from "nodemailer";
import type { TestServer } from "../helpers/server.ts";
import { ALICE, BOB, Jmap, startJmap } from "./helpers.ts";

let srv: TestServer;
let alice: Jmap;
let acct: string;
beforeAll(async () => {
  srv = await startJmap();
  alice = Jmap.for(srv);
  acct = (await alice.session()).accountId;
}, 30_000);
afterAll(async () => {
  await srv.cleanup();
});

const USING = ["urn:ietf:params:jmap:core", "urn:ietf:params:jmap:mail", "urn:ietf:params:jmap:vacationresponse"];
const tlsOptions = { rejectUnauthorized: false, servername: "mx.example.test" };

async function send(opts: { from: string; envelopeFrom: string; subject: string; headers?: Record<string, string> }): Promise<void> {
  const t = nodemailer.createTransport({ host: "127.0.0.1", port: srv.port("smtp"), secure: false, ignoreTLS: true });
  await t.sendMail({ from: opts.from, to: ALICE.address, subject: opts.subject, text: "hi\n", headers: opts.headers, envelope: { from: opts.envelopeFrom, to: [ALICE.address] } });
}

async function inboxOf(user: { address: string; password: string }): Promise<{ subject: string; autoSubmitted: string; returnPath: string }[]> {
  const c = new ImapFlow({ host: "127.0.0.1", port: srv.port("imap"), secure: false, tls: tlsOptions, auth: { user: user.address, pass: user.password }, logger: false });
  await c.connect();
  try {
    const lock = await c.getMailboxLock("INBOX");
    const out: { subject: string; autoSubmitted: string; returnPath: string }[] = [];
    if ((c.mailbox as { exists: number }).exists > 0) {
      for await (const m of c.fetch("1:*", { envelope: true, headers: ["auto-submitted", "return-path"] })) {
        const h = m.headers!.toString();
        out.push({ subject: m.envelope!.subject!, autoSubmitted: /auto-submitted:\s*(.*)/i.exec(h)?.[1]?.trim() ?? "", returnPath: /return-path:\s*(.*)/i.exec(h)?.[1]?.trim() ?? "" });
      }
    }
    lock.release();
    return out;
  } finally {
    await c.logout();
  }
}

async function settle(): Promise<void> {
  // The reply is sent after the delivery commits (a store change event): give it a moment.
  await Bun.sleep(400);
}

test("VacationResponse/get|set; one reply per sender; none to lists or the null sender", async () => {
  const g = (await alice.call([["VacationResponse/get", { accountId: acct }, "g"]], USING))[0]![1];
  expect(g.list).toEqual([{ id: "singleton", isEnabled: false, fromDate: null, toDate: null, subject: null, textBody: null, htmlBody: null }]);
  const s = (await alice.call([["VacationResponse/set", { accountId: acct, update: { singleton: { isEnabled: true, subject: "Away", textBody: "Back on Monday." } } }, "s"]], USING))[0]![1];
  expect(s.updated).toEqual({ singleton: null });
  expect(s.newState).not.toBe(g.state);
  const bad = (await alice.call([["VacationResponse/set", { accountId: acct, create: { x: {} }, update: { other: {} } }, "s"]], USING))[0]![1];
  expect(bad.notCreated.x.type).toBe("singleton");
  expect(bad.notUpdated.other.type).toBe("notFound");

  await send({ from: BOB.address, envelopeFrom: BOB.address, subject: "first" });
  await settle();
  await send({ from: BOB.address, envelopeFrom: BOB.address, subject: "second" });
  await send({ from: BOB.address, envelopeFrom: BOB.address, subject: "list post", headers: { "List-Id": "<team.example.test>" } });
  await send({ from: BOB.address, envelopeFrom: "", subject: "a bounce" });
  await send({ from: BOB.address, envelopeFrom: BOB.address, subject: "an auto-reply", headers: { "Auto-Submitted": "auto-replied" } });
  await settle();
  expect((await inboxOf(ALICE)).map((m) => m.subject)).toEqual(["first", "second", "list post", "a bounce", "an auto-reply"]);
  const replies = await inboxOf(BOB);
  expect(replies).toEqual([{ subject: "Away", autoSubmitted: "auto-replied", returnPath: "<>" }]);

  // Turned off (new settings also forget who was answered): no reply to Bob any more.
  await alice.call([["VacationResponse/set", { accountId: acct, update: { singleton: { isEnabled: false } } }, "s"]], USING);
  await send({ from: BOB.address, envelopeFrom: BOB.address, subject: "while off" });
  await settle();
  expect((await inboxOf(BOB)).length).toBe(1);
}, 30_000);
