// imapflow (npm) as a second, independent client: STARTTLS, CONDSTORE/QRESYNC, ESEARCH,
// MOVE, UIDPLUS, IDLE as a modern client uses them.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { ImapFlow } from "imapflow";
import type { TestServer } from "../helpers/server.ts";
import { startImap, USERS } from "../helpers/imap.ts";

let srv: TestServer;
beforeAll(async () => {
  srv = await startImap();
});
afterAll(async () => {
  await srv.cleanup();
});

// Not a literal in the call: imapflow's TlsOptions type lacks servername (node's has it).
const tlsOptions = { rejectUnauthorized: false, servername: "mx.example.test" };

function client(user = USERS[0]!, qresync = false): ImapFlow {
  return new ImapFlow({
    host: "127.0.0.1",
    port: srv.port("imap"),
    secure: false,
    // Opportunistic STARTTLS (our self-signed certificate; Bun needs a servername for an IP).
    tls: tlsOptions,
    auth: { user: user.address, pass: user.password },
    logger: false,
    qresync,
  });
}

const message = (subject: string, body: string) =>
  [
    "From: Carol <carol@example.test>",
    "To: Alice <alice@example.test>",
    `Subject: ${subject}`,
    "MIME-Version: 1.0",
    'Content-Type: multipart/alternative; boundary="b1"',
    "",
    "--b1",
    "Content-Type: text/plain; charset=utf-8",
    "",
    body,
    "--b1",
    "Content-Type: text/html; charset=utf-8",
    "",
    `<p>${body}</p>`,
    "--b1--",
    "",
  ].join("\r\n");

async function one(c: ImapFlow, range: string, query: Parameters<ImapFlow["fetchOne"]>[1]) {
  const m = await c.fetchOne(range, query);
  if (!m) throw new Error(`no message ${range}`);
  return m;
}

test("mailboxes, append, fetch, search, flags, move, delete", async () => {
  const c = client(USERS[0], true);
  await c.connect();
  expect(c.secureConnection).toBe(true); // STARTTLS was used
  // imapflow turns COMPRESS=DEFLATE on by itself: everything below runs compressed.
  expect((c as unknown as { _deflate?: unknown })._deflate).toBeTruthy();
  const list = await c.list();
  const specials = Object.fromEntries(list.filter((m) => m.specialUse).map((m) => [m.specialUse, m.path]));
  expect(specials["\\Sent"]).toBe("Sent");
  expect(specials["\\Trash"]).toBe("Trash");
  await c.mailboxCreate("Flow");
  const a1 = await c.append("Flow", message("first", "hello one"), ["\\Seen"], new Date("2024-03-01T10:00:00Z"));
  const a2 = await c.append("Flow", message("second", "hello two"));
  expect(a1 && a1.uid).toBe(1);
  expect(a2 && a2.uid).toBe(2);

  const lock = await c.getMailboxLock("Flow");
  try {
    const mb = c.mailbox as unknown as { exists: number; uidNext: number; highestModseq: bigint };
    expect(mb.exists).toBe(2);
    expect(mb.uidNext).toBe(3);
    expect(mb.highestModseq).toBeGreaterThan(0n);
    const msgs = [];
    for await (const m of c.fetch("1:*", { uid: true, flags: true, envelope: true, bodyStructure: true, internalDate: true, size: true })) msgs.push(m);
    expect(msgs.map((m) => m.envelope?.subject)).toEqual(["first", "second"]);
    expect(msgs[0]!.envelope?.from?.[0]?.address).toBe("carol@example.test");
    // \Recent: this IMAP4rev1 session is the first to see the message (RFC 3501 §2.3.2).
    expect([...(msgs[0]!.flags ?? [])]).toEqual(["\\Seen", "\\Recent"]);
    expect((msgs[0]!.internalDate as Date).toISOString()).toBe("2024-03-01T10:00:00.000Z");
    expect(msgs[0]!.bodyStructure?.type).toBe("multipart/alternative");
    expect(msgs[0]!.bodyStructure?.childNodes?.map((n) => n.type)).toEqual(["text/plain", "text/html"]);
    const msg = await one(c, "2", { source: true, bodyParts: ["2"] });
    expect(msg.source!.toString()).toContain("Subject: second");
    expect(msg.bodyParts!.get("2")!.toString()).toBe("<p>hello two</p>");
    const { content } = await c.download("2", "1");
    const chunks: Buffer[] = [];
    for await (const ch of content) chunks.push(ch as Buffer);
    expect(Buffer.concat(chunks).toString()).toBe("hello two");

    expect(await c.search({ seen: false })).toEqual([2]);
    expect(await c.search({ body: "hello" }, { uid: true })).toEqual([1, 2]);
    expect(await c.search({ subject: "second" })).toEqual([2]);
    expect(await c.search({ since: new Date("2024-01-01"), before: new Date("2024-06-01") })).toEqual([1]);

    await c.messageFlagsAdd("2", ["\\Flagged", "$Label1"]);
    const f = await one(c, "2", { flags: true });
    expect([...(f.flags ?? [])].sort()).toEqual(["$Label1", "\\Flagged", "\\Recent"]);
    await c.messageFlagsRemove("2", ["$Label1"]);
    expect([...((await one(c, "2", { flags: true })).flags ?? [])]).toEqual(["\\Flagged", "\\Recent"]);

    const moved = await c.messageMove("1", "Archive");
    expect(moved && moved.uidMap?.get(1)).toBeGreaterThan(0);
    // (imapflow does not count VANISHED into `exists`: ask the server.)
    expect(await c.search({ all: true }, { uid: true })).toEqual([2]);
    await c.messageDelete("1");
    expect(await c.search({ all: true })).toEqual([]);
  } finally {
    lock.release();
  }
  const st = await c.status("Archive", { messages: true, unseen: true, uidNext: true });
  expect(st.messages).toBe(1);
  await c.logout();
});

test("IDLE: an APPEND from another client arrives as an exists event", async () => {
  const watcher = client();
  const writer = client();
  await Promise.all([watcher.connect(), writer.connect()]);
  await watcher.mailboxOpen("INBOX");
  const before = (watcher.mailbox as unknown as { exists: number }).exists;
  const seen = new Promise<number>((resolve) => watcher.on("exists", (d: { count: number }) => resolve(d.count)));
  // idle() resolves only when IDLE is broken off: do not wait for it.
  void watcher.idle();
  await Bun.sleep(50);
  await writer.append("INBOX", message("pushed", "new mail"));
  expect(await seen).toBe(before + 1);
  await Promise.all([watcher.logout(), writer.logout()]);
});
