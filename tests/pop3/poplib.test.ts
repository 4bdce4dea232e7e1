// POP3 driven by Python's poplib: every command and the error cases (RFC 1939, 2449, 3206, 5034).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import * as net from "node:net";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import pop3 from "../../plugins/pop3/index.ts";
import { deliver, inboxUids, makeMessage, popLogin, poplib } from "../helpers/pop3.ts";

let server: TestServer;
const ALICE = "alice@example.test";
const BOB = "bob@example.test";
const CAROL = "carol@example.test";
const msgs = [makeMessage("first"), makeMessage("second", 3000), makeMessage("third", 200)];

beforeAll(async () => {
  server = await startTestServer({
    plugins: [pop3],
    users: [
      { address: ALICE, password: "alice-pw" },
      { address: BOB, password: "bob pw with spaces" },
      { address: CAROL, password: "carol-pw" },
    ],
    config: { pop3: { authFailureDelayMs: 10 } },
  });
  for (const m of msgs) await deliver(server, ALICE, m);
});
afterAll(async () => {
  await server?.cleanup();
});

const login = (user = ALICE, pw = "alice-pw") => popLogin(user, pw);

describe("poplib", () => {
  test("greeting, CAPA, login, STAT, LIST, UIDL", async () => {
    const r = await poplib(server, [...login(), ["capa"], ["stat"], ["list"], ["list", 2], ["uidl"], ["uidl", 3], ["noop"], ["quit"]]);
    expect(r[0]).toEqual({ ok: expect.stringMatching(/^\+OK /) });
    expect(r[2]).toEqual({ ok: expect.stringMatching(/^\+OK Logged in/) });
    const capa = (r[3] as { ok: Record<string, string[]> }).ok;
    for (const c of ["TOP", "UIDL", "USER", "RESP-CODES", "AUTH-RESP-CODE", "PIPELINING", "IMPLEMENTATION"]) expect(capa).toHaveProperty(c);
    const total = msgs.reduce((n, m) => n + m.length, 0);
    expect(r[4]).toEqual({ ok: [3, total] });
    expect(r[5]).toEqual({ ok: [`+OK 3 messages (${total} octets)`, msgs.map((m, i) => `${i + 1} ${m.length}`), expect.any(Number)] });
    expect(r[6]).toEqual({ ok: `+OK 2 ${msgs[1]!.length}` });
    const uidl = (r[7] as { ok: [string, string[]] }).ok[1];
    expect(uidl).toHaveLength(3);
    for (const line of uidl) expect(line).toMatch(/^\d \d+\.\d+$/);
    expect(new Set(uidl.map((l) => l.split(" ")[1])).size).toBe(3);
    expect(r[8]).toEqual({ ok: `+OK ${uidl[2]}` });
    expect(r[9]).toEqual({ ok: "+OK" });
    expect(r[10]).toEqual({ ok: expect.stringMatching(/^\+OK /) });
  });

  test("RETR returns the stored bytes, and its octet count equals LIST's size", async () => {
    const r = await poplib(server, [...login(), ["retr", 1], ["retr", 2], ["retr", 3], ["quit"]]);
    for (let i = 0; i < 3; i++) {
      const [resp, lines, octets] = (r[3 + i] as { ok: [string, string[], number] }).ok;
      expect(resp).toBe(`+OK ${msgs[i]!.length} octets`);
      expect(lines.map((l) => `${l}\r\n`).join("")).toBe(msgs[i]!);
      expect(octets).toBe(msgs[i]!.length);
    }
  });

  test("UIDs are stable across sessions", async () => {
    const a = await poplib(server, [...login(), ["uidl"], ["quit"]]);
    const b = await poplib(server, [...login(), ["uidl"], ["quit"]]);
    expect(a[3]).toEqual(b[3]);
  });

  test("TOP returns the header and n body lines, dot-stuffed", async () => {
    const r = await poplib(server, [...login(), ["top", 1, 0], ["top", 1, 2], ["quit"]]);
    const head = msgs[0]!.slice(0, msgs[0]!.indexOf("\r\n\r\n") + 4);
    const body = msgs[0]!.slice(head.length).split("\r\n");
    expect((r[3] as { ok: [string, string[]] }).ok[1].map((l) => `${l}\r\n`).join("")).toBe(head);
    expect((r[4] as { ok: [string, string[]] }).ok[1].map((l) => `${l}\r\n`).join("")).toBe(head + `${body[0]}\r\n${body[1]}\r\n`);
  });

  test("wrong password, wrong user: -ERR [AUTH]; the session can retry", async () => {
    const r = await poplib(server, [
      ["open", "plain"],
      ["user", ALICE],
      ["pass_", "nope"],
      ["user", "nobody@example.test"],
      ["pass_", "x"],
      ["user", ALICE],
      ["pass_", "alice-pw"],
      ["stat"],
      ["quit"],
    ]);
    expect(r[2]).toEqual({ err: expect.stringMatching(/^-ERR \[AUTH\] /) });
    expect(r[4]).toEqual({ err: expect.stringMatching(/^-ERR \[AUTH\] /) });
    expect(r[6]).toEqual({ ok: expect.stringMatching(/^\+OK/) });
    expect(r[7]).toEqual({ ok: [3, expect.any(Number)] });
  });

  test("three failed logins close the connection", async () => {
    const r = await poplib(server, [["open", "plain"], ["user", CAROL], ["pass_", "a"], ["user", CAROL], ["pass_", "b"], ["user", CAROL], ["pass_", "c"], ["eof"]]);
    expect(r[6]).toEqual({ err: expect.stringMatching(/^-ERR \[AUTH\] .*closing connection/) });
    expect(r[7]).toEqual({ ok: "" });
  });

  test("a password with spaces works with PASS", async () => {
    const r = await poplib(server, [...login(BOB, "bob pw with spaces"), ["stat"], ["quit"]]);
    expect(r[3]).toEqual({ ok: [0, 0] });
  });

  test("AUTH PLAIN with an initial response (RFC 5034)", async () => {
    const r = await poplib(server, [["open", "plain"], ["auth_plain", ALICE, "wrong"], ["auth_plain", ALICE, "alice-pw"], ["stat"], ["quit"]]);
    expect(r[1]).toEqual({ err: expect.stringMatching(/^-ERR \[AUTH\]/) });
    expect(r[2]).toEqual({ ok: expect.stringMatching(/^\+OK Logged in/) });
    expect(r[3]).toEqual({ ok: [3, expect.any(Number)] });
  });

  test("commands in the wrong state and bad arguments get -ERR", async () => {
    const r = await poplib(server, [
      ["open", "plain"],
      ["raw", "STAT"],
      ["raw", "RETR 1"],
      ["raw", "PASS alice-pw"],
      ["user", ALICE],
      ["pass_", "alice-pw"],
      ["raw", "USER bob"],
      ["raw", "STLS"],
      ["raw", "RETR 0"],
      ["raw", "RETR 4"],
      ["raw", "RETR one"],
      ["raw", "TOP 1"],
      ["raw", "LIST 9"],
      ["raw", "DELE"],
      ["raw", "FOO"],
      ["stat"],
      ["quit"],
    ]);
    for (const i of [1, 2, 3, 6, 7, 8, 9, 10, 11, 12, 13, 14]) expect(r[i]).toEqual({ err: expect.stringMatching(/^-ERR /) });
    expect(r[5]).toEqual({ ok: expect.stringMatching(/^\+OK/) });
    expect(r[15]).toEqual({ ok: [3, expect.any(Number)] });
  });

  test("too many bad commands close the session", async () => {
    const bad = Array.from({ length: 10 }, () => ["raw", "XYZZY"]);
    const r = await poplib(server, [["open", "plain"], ...bad, ["eof"]]);
    expect(r[10]).toEqual({ err: expect.stringMatching(/too many errors/) });
    expect(r[11]).toEqual({ ok: "" });
  });

  test("hostile input (binary, NULs, a 100 KB line) gets -ERR and a close; the server lives on", async () => {
    const sock = net.connect({ host: "127.0.0.1", port: server.port("pop3") });
    let got = "";
    sock.on("data", (d) => (got += d.toString("latin1")));
    const closed = new Promise<void>((r) => sock.on("close", () => r()));
    sock.on("error", () => {});
    await new Promise<void>((r) => sock.once("connect", () => r()));
    sock.write(Buffer.from([0, 1, 2, 0xff, 0xfe, 13, 10]));
    sock.write("A".repeat(100_000) + "\r\n");
    sock.write("USER \u00e9\0x\r\nRETR 1\r\nAUTH PLAIN !!!\r\n" + "\r\n".repeat(20));
    await closed;
    const lines = got.split("\r\n").filter((l) => l);
    expect(lines[0]).toMatch(/^\+OK /);
    expect(lines.slice(1).every((l) => l.startsWith("-ERR "))).toBe(true);
    expect(lines.at(-1)).toMatch(/too many errors/);
    const r = await poplib(server, [...login(), ["stat"], ["quit"]]);
    expect(r[3]).toEqual({ ok: [3, expect.any(Number)] });
  });

  test("DELE then RSET keeps the messages", async () => {
    const r = await poplib(server, [...login(), ["dele", 1], ["dele", 2], ["stat"], ["raw", "RETR 1"], ["rset"], ["stat"], ["quit"]]);
    expect(r[5]).toEqual({ ok: [1, msgs[2]!.length] });
    expect(r[6]).toEqual({ err: "-ERR Message 1 already deleted" });
    expect(r[8]).toEqual({ ok: [3, expect.any(Number)] });
    expect(await inboxUids(server, ALICE)).toHaveLength(3);
  });

  test("DELE then a dropped connection keeps the messages", async () => {
    await poplib(server, [...login(), ["dele", 1], ["close"]]);
    await Bun.sleep(50);
    expect(await inboxUids(server, ALICE)).toHaveLength(3);
  });

  test("the maildrop is locked: a second session gets [IN-USE] until the first quits", async () => {
    const r = await poplib(server, [
      ...login(),
      ["@b", "open", "plain"],
      ["@b", "user", ALICE],
      ["@b", "pass_", "alice-pw"],
      ["quit"],
      ["@b", "user", ALICE],
      ["@b", "pass_", "alice-pw"],
      ["@b", "quit"],
    ]);
    expect(r[5]).toEqual({ err: expect.stringMatching(/^-ERR \[IN-USE\]/) });
    expect(r[8]).toEqual({ ok: expect.stringMatching(/^\+OK Logged in/) });
  });

  test("DELE then QUIT removes the message; a new session sees the rest", async () => {
    const extra = makeMessage("to-delete");
    await deliver(server, BOB, extra);
    await deliver(server, BOB, makeMessage("to-keep"));
    const r = await poplib(server, [
      ...login(BOB, "bob pw with spaces"),
      ["uidl"],
      ["dele", 1],
      ["quit"],
      ["open", "plain"],
      ["user", BOB],
      ["pass_", "bob pw with spaces"],
      ["uidl"],
      ["retr", 1],
      ["quit"],
    ]);
    const before = (r[3] as { ok: [string, string[]] }).ok[1];
    expect(r[5]).toEqual({ ok: expect.stringMatching(/^\+OK .*1 messages left/) });
    const after = (r[9] as { ok: [string, string[]] }).ok[1];
    expect(after).toEqual([`1 ${before[1]!.split(" ")[1]}`]);
    expect((r[10] as { ok: [string, string[]] }).ok[1].join("\r\n")).toContain("Subject: to-keep");
    expect(await inboxUids(server, BOB)).toHaveLength(1);
  });
});
