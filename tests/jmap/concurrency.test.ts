// Both ways between IMAP and JMAP on one store: an IMAP flag change shows in Email/changes;
// a JMAP move reaches IMAP IDLE sessions as EXPUNGE (plain) and VANISHED (QRESYNC), and the
// JMAP event source as a StateChange (RFC 8620 §7.3).
import { afterAll, beforeAll, expect, test } from "bun:test";
import { ImapFlow } from "imapflow";
import type { TestServer } from "../helpers/server.ts";
import { ALICE, Jmap, startJmap } from "./helpers.ts";

let srv: TestServer;
let jmap: Jmap;
let acct: string;
beforeAll(async () => {
  srv = await startJmap();
  jmap = Jmap.for(srv);
  acct = (await jmap.session()).accountId;
}, 30_000);
afterAll(async () => {
  await srv.cleanup();
});

const tlsOptions = { rejectUnauthorized: false, servername: "mx.example.test" };
const imap = (qresync = false) =>
  new ImapFlow({ host: "127.0.0.1", port: srv.port("imap"), secure: false, tls: tlsOptions, auth: { user: ALICE.address, pass: ALICE.password }, logger: false, qresync });

async function appendOverImap(c: ImapFlow, subject: string): Promise<void> {
  await c.append("INBOX", `From: x@remote.test\r\nTo: ${ALICE.address}\r\nSubject: ${subject}\r\nMessage-ID: <${subject}@remote.test>\r\n\r\nbody\r\n`);
}

async function idOf(subject: string): Promise<string> {
  const r = await jmap.call([["Email/query", { accountId: acct, filter: { subject } }, "q"]]);
  return r[0]![1].ids[0];
}

test("a flag set over IMAP appears in Email/changes and Email/get", async () => {
  const c = imap();
  await c.connect();
  try {
    await appendOverImap(c, "flagme");
    const id = await idOf("flagme");
    const [[, before]] = await jmap.call([["Email/get", { accountId: acct, ids: [id], properties: ["keywords"] }, "g"]]);
    const lock = await c.getMailboxLock("INBOX");
    await c.messageFlagsAdd({ all: true }, ["\\Flagged", "$Label1"]);
    lock.release();
    const r = await jmap.call([
      ["Email/changes", { accountId: acct, sinceState: before.state }, "c"],
      ["Email/get", { accountId: acct, "#ids": { resultOf: "c", name: "Email/changes", path: "/updated" }, properties: ["keywords"] }, "g"],
    ]);
    expect(r[0]![1]).toMatchObject({ oldState: before.state, created: [], updated: [id], destroyed: [], hasMoreChanges: false });
    expect(r[1]![1].list).toEqual([{ id, keywords: { $flagged: true, $label1: true } }]);
    // and nothing changed since the new state
    const again = await jmap.call([["Email/changes", { accountId: acct, sinceState: r[0]![1].newState }, "c"]]);
    expect(again[0]![1]).toMatchObject({ created: [], updated: [], destroyed: [] });
  } finally {
    await c.logout();
  }
});

/** Reads server-sent events from the JMAP event source until `pred` matches one. */
async function openEvents(): Promise<{ next(pred: (ev: { event: string; data: any }) => boolean): Promise<{ event: string; data: any }>; close(): void }> {
  const ac = new AbortController();
  const res = await jmap.fetch("/jmap/eventsource?types=*&closeafter=no&ping=0", { signal: ac.signal });
  expect(res.headers.get("content-type")).toContain("text/event-stream");
  const reader = res.body!.getReader();
  let buf = "";
  return {
    async next(pred) {
      for (;;) {
        let end: number;
        while ((end = buf.indexOf("\n\n")) >= 0) {
          const block = buf.slice(0, end);
          buf = buf.slice(end + 2);
          const event = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (event && data) {
            const ev = { event, data: JSON.parse(data) };
            if (pred(ev)) return ev;
          }
        }
        const { value, done } = await reader.read();
        if (done) throw new Error("event source closed");
        buf += new TextDecoder().decode(value);
      }
    },
    close: () => ac.abort(),
  };
}

test("a JMAP move: EXPUNGE in a plain IDLE, VANISHED in a QRESYNC IDLE, StateChange on the event source", async () => {
  const setup = imap();
  await setup.connect();
  await appendOverImap(setup, "moveme");
  await setup.logout();
  const id = await idOf("moveme");
  const boxes = Object.fromEntries((await jmap.call([["Mailbox/get", { accountId: acct }, "m"]]))[0]![1].list.map((m: { role: string; id: string }) => [m.role, m.id]));

  const plain = imap();
  const qr = imap(true);
  await plain.connect();
  await qr.connect();
  const plainLock = await plain.getMailboxLock("INBOX");
  const qrLock = await qr.getMailboxLock("INBOX");
  const exists = plain.mailbox && typeof plain.mailbox === "object" ? plain.mailbox.exists : 0;
  const expunged = new Promise<{ seq?: number; uid?: number; vanished?: boolean }>((resolve) => plain.on("expunge", resolve));
  const vanished = new Promise<{ seq?: number; uid?: number; vanished?: boolean }>((resolve) => qr.on("expunge", resolve));
  const plainIdle = plain.idle();
  const qrIdle = qr.idle();
  const events = await openEvents();
  try {
    await Bun.sleep(100); // both IDLEs are in place
    const r = await jmap.call([["Email/set", { accountId: acct, update: { [id]: { mailboxIds: { [boxes.archive]: true } } } }, "s"]]);
    expect(r[0]![1].updated).toEqual({ [id]: null });
    const newState = r[0]![1].newState;
    const ev = await events.next((e) => e.event === "state");
    expect(ev.data["@type"]).toBe("StateChange");
    expect(ev.data.changed[acct]).toMatchObject({ Email: newState, Mailbox: newState, Thread: newState });
    const e1 = await expunged;
    expect(e1).toMatchObject({ seq: exists, vanished: false });
    const e2 = await vanished;
    expect(e2.vanished).toBe(true);
    expect(typeof e2.uid).toBe("number");
  } finally {
    events.close();
    plainLock.release();
    qrLock.release();
    await Promise.all([plain.logout(), qr.logout()]);
    await Promise.allSettled([plainIdle, qrIdle]);
  }
}, 20_000);
