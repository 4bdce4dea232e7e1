// VacationResponse (RFC 8621 §8) applied at local delivery by RFC 3834's rules: one reply
// per sender, none to a mailing list, bulk mail, auto-replies or the null sender. Mail comes
// in over SMTP from nodemailer, Alice's inbox is read with imapflow, replies reach the
// sink MTA (aiosmtpd) that remote.test's mail is routed to.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { ImapFlow } from "imapflow";
import nodemailer from "nodemailer";
import type { TestServer } from "../helpers/server.ts";
import { builtinPlugins } from "../../plugins/index.ts";
import { definePlugin } from "../../core/types.ts";
import { startAiosmtpd, type Aiosmtpd } from "../helpers/aiosmtpd.ts";
import { ALICE, BOB, Jmap } from "./helpers.ts";
import { startTestServer } from "../helpers/server.ts";

let srv: TestServer;
let peer: Aiosmtpd;
let alice: Jmap;
let acct: string;
beforeAll(async () => {
  // remote.test's mail goes to aiosmtpd (a sink MTA), where the replies are read.
  peer = await startAiosmtpd();
  const route = definePlugin({
    name: "test-remote-route",
    setup(core) {
      core.hooks.on("nextHop", (_msg, domain) => (domain === "remote.test" ? { kind: "hops", hops: [{ host: "127.0.0.1", port: peer.port, preference: 0 }] } : { kind: "pass" }));
    },
  });
  srv = await startTestServer({ users: [ALICE, BOB], plugins: [...builtinPlugins, route] });
  alice = Jmap.for(srv);
  acct = (await alice.session()).accountId;
}, 30_000);
afterAll(async () => {
  await srv.cleanup();
  await peer.stop();
});

const USING = ["urn:ietf:params:jmap:core", "urn:ietf:params:jmap:mail", "urn:ietf:params:jmap:vacationresponse"];
const tlsOptions = { rejectUnauthorized: false, servername: "mx.example.test" };

async function send(opts: { from: string; envelopeFrom: string; subject: string; headers?: Record<string, string> }): Promise<void> {
  const t = nodemailer.createTransport({ host: "127.0.0.1", port: srv.port("smtp"), secure: false, ignoreTLS: true });
  await t.sendMail({ from: opts.from, to: ALICE.address, subject: opts.subject, text: "hi\n", headers: opts.headers, envelope: { from: opts.envelopeFrom, to: [ALICE.address] } });
}

/** Vacation replies the sink MTA received for `to`. */
function repliesTo(to: string): { mailFrom: string; subject: string; autoSubmitted: string }[] {
  return peer
    .messages()
    .filter((m) => m.rcptTo.includes(to))
    .map((m) => ({ mailFrom: m.mailFrom, subject: /^Subject: (.*)$/im.exec(m.data)?.[1]?.trim() ?? "", autoSubmitted: /^Auto-Submitted: (.*)$/im.exec(m.data)?.[1]?.trim() ?? "" }));
}

async function inboxSubjects(): Promise<string[]> {
  const c = new ImapFlow({ host: "127.0.0.1", port: srv.port("imap"), secure: false, tls: tlsOptions, auth: { user: ALICE.address, pass: ALICE.password }, logger: false });
  await c.connect();
  try {
    const lock = await c.getMailboxLock("INBOX");
    const out: string[] = [];
    for await (const m of c.fetch("1:*", { envelope: true })) out.push(m.envelope!.subject!);
    lock.release();
    return out;
  } finally {
    await c.logout();
  }
}

async function settle(): Promise<void> {
  // The reply is queued after the delivery commits (a store change event), then delivered.
  await Bun.sleep(1500);
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

  // Mail from outside (our own domain's senders must log in now): replies go out by SMTP.
  const DAVE = "dave@remote.test";
  await send({ from: DAVE, envelopeFrom: DAVE, subject: "first" });
  await settle();
  await send({ from: DAVE, envelopeFrom: DAVE, subject: "second" });
  await send({ from: DAVE, envelopeFrom: DAVE, subject: "list post", headers: { "List-Id": "<team.remote.test>" } });
  await send({ from: DAVE, envelopeFrom: "", subject: "a bounce" });
  await send({ from: DAVE, envelopeFrom: DAVE, subject: "an auto-reply", headers: { "Auto-Submitted": "auto-replied" } });
  await send({ from: "news@remote.test", envelopeFrom: "news@remote.test", subject: "bulk", headers: { Precedence: "bulk" } });
  await settle();
  expect(await inboxSubjects()).toEqual(["first", "second", "list post", "a bounce", "an auto-reply", "bulk"]);
  expect(repliesTo(DAVE)).toEqual([{ mailFrom: "<>", subject: "Away", autoSubmitted: "auto-replied" }]);
  expect(repliesTo("news@remote.test")).toEqual([]);

  // Turned off (new settings also forget who was answered): no reply to Dave any more.
  await alice.call([["VacationResponse/set", { accountId: acct, update: { singleton: { isEnabled: false } } }, "s"]], USING);
  await send({ from: DAVE, envelopeFrom: DAVE, subject: "while off" });
  await settle();
  expect(repliesTo(DAVE).length).toBe(1);
}, 30_000);
