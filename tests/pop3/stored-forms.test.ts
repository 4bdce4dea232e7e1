// RETR and TOP of messages in every stored form kotakpos has: a prefix of header lines
// added at delivery plus the blob, bare LF / bare CR line ends (IMAP APPEND stores what
// the client sent), lines starting with "." — through Python's poplib, and pipelined
// RETRs with a DELE between them on a raw socket (poplib does not pipeline).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import * as net from "node:net";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import pop3 from "../../plugins/pop3/index.ts";
import { deliver, inboxUids, makeMessage, popLogin, poplib } from "../helpers/pop3.ts";

let server: TestServer;
const ALICE = "alice@example.test";
const BOB = "bob@example.test";
const CAROL = "carol@example.test";
/** Carol's maildrop: enough messages that pipelined RETRs are read in batches. */
const CAROLS: string[] = [];
const PREFIX = [
  "Return-Path: <bob@sender.test>\r\n",
  "Received: from sender.test (sender.test [192.0.2.1])\r\n\tby mx.example.test (kotakpos) with ESMTP id x1;\r\n\tSun, 22 Nov 2026 03:00:00 +0000\r\n",
];
/** Bare LFs, a bare CR, a line that is only ".", lines starting with "." and "..". */
const RAGGED = "From: bob@sender.test\nSubject: ragged\n\n.first line starts with a dot\nsecond\rthird\n.\n..two\nlast without a line end";
const crlf = (s: string) => s.replace(/\r\n|\r|\n/g, "\r\n");
// What RETR sends (before stuffing): CRLF everywhere, a CRLF added at the end.
const SENT = [PREFIX.join("") + makeMessage("prefixed", 2000), PREFIX.join("") + crlf(RAGGED)];
const ALL = ["", ""]; // filled in beforeAll: what each message is expected to be

beforeAll(async () => {
  server = await startTestServer({
    plugins: [pop3],
    users: [
      { address: ALICE, password: "alice-pw" },
      { address: BOB, password: "bob-pw" },
      { address: CAROL, password: "carol-pw" },
    ],
  });
  const plain = SENT[0]!.slice(PREFIX.join("").length);
  await deliver(server, ALICE, plain, PREFIX);
  await deliver(server, ALICE, RAGGED, PREFIX);
  ALL[0] = SENT[0]!;
  ALL[1] = SENT[1]!;
  for (let i = 1; i <= 5; i++) await deliver(server, BOB, makeMessage(`pipelined ${i}`, 500 + i * 300), PREFIX);
  for (let i = 1; i <= 40; i++) {
    // Most clean (read in place), every fifth with dot lines, every seventh ragged.
    const clean = `From: bob@sender.test\r\nSubject: batch ${i}\r\n\r\n${"plain text line\r\n".repeat(50 + i * 20)}`;
    const raw = i % 7 === 0 ? RAGGED : i % 5 === 0 ? makeMessage(`batch ${i}`, 3000) : clean;
    const prefix = i % 2 ? PREFIX : [];
    await deliver(server, CAROL, raw, prefix);
    CAROLS.push(prefix.join("") + crlf(raw));
  }
});
afterAll(async () => {
  await server?.cleanup();
});

const login = (user = ALICE, pw = "alice-pw") => popLogin(user, pw);

describe("stored forms", () => {
  test("a prefixed message and a ragged one: LIST size = RETR octets = the CRLF form, dots stuffed", async () => {
    // LIST after the RETRs: a ragged message's size is its stored size until a RETR has
    // seen its CRLF form (the octets are not counted at login: that would read every blob).
    const r = await poplib(server, [...login(), ["retr", 1], ["retr", 2], ["list"], ["quit"]]);
    const [, sizes] = (r[5] as { ok: [string, string[]] }).ok;
    for (let i = 0; i < 2; i++) {
      const want = ALL[i]!.endsWith("\r\n") ? ALL[i]! : `${ALL[i]!}\r\n`;
      const [resp, lines, octets] = (r[3 + i] as { ok: [string, string[], number] }).ok;
      // poplib removes the stuffing: the lines are the message's own.
      expect(lines.map((l) => `${l}\r\n`).join("")).toBe(want);
      expect(resp).toBe(`+OK ${ALL[i]!.length} octets`);
      expect(sizes[i]).toBe(`${i + 1} ${ALL[i]!.length}`);
      // poplib counts the octets after unstuffing.
      expect(octets).toBe(want.length);
      expect(lines.filter((l) => l.startsWith(".")).length).toBeGreaterThan(1);
    }
  });

  test("TOP of a prefixed message counts the prefix as header", async () => {
    const r = await poplib(server, [...login(), ["top", 2, 1], ["quit"]]);
    const head = ALL[1]!.slice(0, ALL[1]!.indexOf("\r\n\r\n") + 4);
    expect((r[3] as { ok: [string, string[]] }).ok[1].map((l) => `${l}\r\n`).join("")).toBe(`${head}.first line starts with a dot\r\n`);
  });

  test("pipelined RETRs with a DELE between them: answers in order, the deletion applied at QUIT", async () => {
    const before = await inboxUids(server, BOB);
    const sock = net.connect(server.port("pop3"), "127.0.0.1");
    let got = "";
    sock.on("data", (c: Buffer) => (got += c.toString("latin1")));
    const closed = new Promise<void>((res) => sock.on("close", () => res()));
    await new Promise<void>((res) => sock.once("connect", () => res()));
    sock.write(`USER ${BOB}\r\nPASS bob-pw\r\n`);
    for (let i = 0; i < 500 && !got.includes("Logged in"); i++) await Bun.sleep(5);
    got = "";
    sock.write("RETR 1\r\nRETR 2\r\nDELE 2\r\nRETR 2\r\nRETR 3\r\nDELE 9\r\nLIST\r\nRETR 5\r\nQUIT\r\n");
    await closed;
    const r = await poplib(server, [...login(BOB, "bob-pw"), ["uidl"], ["quit"]]);
    // Answers, split at the status lines: one per command, in order.
    const answers = got.split(/(?=^[+-](?:OK|ERR))/m);
    expect(answers.map((a) => a.split("\r\n")[0])).toEqual([
      expect.stringMatching(/^\+OK \d+ octets$/),
      expect.stringMatching(/^\+OK \d+ octets$/),
      "+OK message 2 deleted",
      "-ERR Message 2 already deleted",
      expect.stringMatching(/^\+OK \d+ octets$/),
      "-ERR No such message, only 5 messages in maildrop",
      expect.stringMatching(/^\+OK 4 messages \(\d+ octets\)$/),
      expect.stringMatching(/^\+OK \d+ octets$/),
      expect.stringMatching(/^\+OK mx\.example\.test POP3 server signing off \(4 messages left\)$/),
    ]);
    // Each RETR answer is the whole stuffed message and its terminator.
    for (const i of [0, 1, 4, 7]) {
      expect(answers[i]).toEndWith("\r\n.\r\n");
      expect(answers[i]).toContain("\r\n...two dots");
    }
    expect(answers[6]).not.toMatch(/^2 /m);
    expect(await inboxUids(server, BOB)).toEqual(before.filter((_, i) => i !== 1));
    expect((r[3] as { ok: [string, string[]] }).ok[1]).toHaveLength(4);
  });

  test("forty pipelined RETRs (read in batches off the event loop): each answer whole, in order, byte for byte", async () => {
    const sock = net.connect(server.port("pop3"), "127.0.0.1");
    const chunks: Buffer[] = [];
    sock.on("data", (c: Buffer) => chunks.push(c));
    const closed = new Promise<void>((res) => sock.on("close", () => res()));
    await new Promise<void>((res) => sock.once("connect", () => res()));
    sock.write(`USER ${CAROL}\r\nPASS carol-pw\r\n`);
    for (let i = 0; i < 500 && !Buffer.concat(chunks).includes("Logged in"); i++) await Bun.sleep(5);
    chunks.length = 0;
    sock.write(`${CAROLS.map((_, i) => `RETR ${i + 1}\r\n`).join("")}QUIT\r\n`);
    await closed;
    const got = Buffer.concat(chunks).toString("latin1");
    const want = CAROLS.map((m) => {
      const sent = m.endsWith("\r\n") ? m : `${m}\r\n`;
      return `+OK ${m.length} octets\r\n${sent.replace(/^\./gm, "..")}.\r\n`;
    }).join("");
    expect(got.startsWith(want)).toBe(true);
    expect(got.slice(want.length)).toStartWith("+OK mx.example.test POP3 server signing off");
  });
});
