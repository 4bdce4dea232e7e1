// The small pieces: From_ dates, Gmail label lists, line ends, IMAP URLs, progress output.
import { expect, test } from "bun:test";
import { fromLineDate } from "./mbox.ts";
import { gmailLabels, splitLabels } from "./mbox-flags.ts";
import { notAMessage, toCrlf, toLf } from "./message.ts";
import { chunksOf, parseImapUrl } from "./imap.ts";
import { createProgress, formatReport, progressLine } from "./progress.ts";
import { maildirFolderName } from "./export.ts";
import { flagsOfName } from "./maildir.ts";

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);

test("From_ lines: asctime (UTC), a zone before the year, and body lines that are not From_ lines", () => {
  expect(fromLineDate("From MAILER-DAEMON Tue Nov 14 22:13:20 2023")).toBe(Date.UTC(2023, 10, 14, 22, 13, 20));
  expect(fromLineDate("From 1789@xxx Mon Jan 01 10:00:00 +0200 2024\n")).toBe(Date.UTC(2024, 0, 1, 8, 0, 0));
  expect(fromLineDate("From - Mon Jan  1 10:00:05 2024")).toBe(Date.UTC(2024, 0, 1, 10, 0, 5));
  expect(fromLineDate("From here on we talk about 10:00 in 2024")).toBeNull();
  expect(fromLineDate("From me")).toBeNull();
});

test("Gmail labels: quoted labels with commas, system labels to folders and flags", () => {
  expect(splitLabels('Inbox,"Clients, Big",Work/Project')).toEqual(["Inbox", "Clients, Big", "Work/Project"]);
  expect(gmailLabels("Inbox,Starred,Unread")).toEqual({ folders: ["INBOX"], flags: ["\\Flagged"] });
  expect(gmailLabels("Important,Category Social")).toEqual({ folders: ["Archive"], flags: ["\\Seen"] });
  expect(gmailLabels("=?UTF-8?Q?=C3=9Cbersicht?=,Spam").folders).toEqual(["Übersicht", "Junk"]);
});

test("line ends: bare LF and lone CR become CRLF, CRLF stays; LF export", () => {
  expect(dec(toCrlf(enc("a\nb\r\nc\rd")))).toBe("a\r\nb\r\nc\r\nd");
  const crlf = enc("x\r\ny\r\n");
  expect(toCrlf(crlf)).toBe(crlf);
  expect(dec(toLf(enc("a\r\nb\r\n")))).toBe("a\nb\n");
});

test("what is a message: a header field first, no binary", () => {
  expect(notAMessage(enc("Subject: hi\r\n\r\nx"))).toBeNull();
  expect(notAMessage(enc(""))).toBe("empty");
  expect(notAMessage(enc("hello world\n"))).toContain("header field");
  expect(notAMessage(enc("X: y\n\0\0"))).toContain("binary");
});

test("IMAP URLs: user with @, port defaults, STARTTLS vs TLS, bad ones", () => {
  expect(parseImapUrl("imaps://alice@example.com@mail.example.com")).toEqual({ secure: true, user: "alice@example.com", password: undefined, host: "mail.example.com", port: 993 });
  expect(parseImapUrl("imap://bob@127.0.0.1:1143")).toMatchObject({ secure: false, user: "bob", host: "127.0.0.1", port: 1143 });
  expect(parseImapUrl("imap://u%40x:p%3Aw@[::1]:143")).toMatchObject({ user: "u@x", password: "p:w", host: "::1" });
  expect(() => parseImapUrl("pop3://x@y")).toThrow("not an IMAP URL");
  expect(() => parseImapUrl("imaps://host-without-user")).toThrow("not an IMAP URL");
});

test("Maildir names and flags both ways", () => {
  expect(maildirFolderName("Work/日本語")).toBe(".Work.&ZeVnLIqe-");
  expect(maildirFolderName("v1.2")).toBe(".v1_2");
  expect(flagsOfName("123.M1:2,FRSab", ["$Forwarded", "x"])).toEqual(["\\Flagged", "\\Answered", "\\Seen", "$Forwarded", "x"]);
  expect(flagsOfName("123.M1", [])).toEqual([]);
});

test("progress: a bar redrawn in place on a terminal, plain lines otherwise; the report adds up", () => {
  const c = { found: 50, imported: 40, skipped: 2, existing: 8, bytes: 5 * 1024 * 1024 };
  expect(progressLine(c, { messages: 100 }, 10)).toBe("50/100 messages  5.0 MB  5 msg/s 0.5 MB/s  ETA 0:10");
  let tty = "";
  const bar = createProgress((s) => void (tty += s), { tty: true, totals: { messages: 100 }, intervalMs: 0 });
  bar.update(c);
  bar.done();
  expect(tty).toMatch(/^\r\x1b\[K\[#{12}\.{12}\] 50\/100 messages/);
  expect(tty.endsWith("\n")).toBe(true);
  let plain = "";
  const lines = createProgress((s) => void (plain += s), { tty: false, intervalMs: 0 });
  lines.update(c);
  lines.done();
  expect(plain).toMatch(/^progress: 50 messages  5\.0 MB .*\n$/);
  expect(plain).not.toContain("\r");
  const report = formatReport({ ...c, skippedList: [{ where: "a.mbox message 3", reason: "not a message" }], notes: ["n"], folders: 2, seconds: 1 });
  expect(report).toContain("found 50 = imported 40 + skipped 2 + already there 8\n");
  expect(report).toContain("  a.mbox message 3: not a message\n");
});

test("FETCH chunks: at most 100 messages and 32 MB each; a bigger message goes alone", () => {
  const uids = Array.from({ length: 250 }, (_, i) => i + 1);
  const sizes = new Map(uids.map((u) => [u, u === 120 ? 40 * 1024 * 1024 : 10_000]));
  expect(chunksOf(uids, sizes).map((c) => [c[0], c.length])).toEqual([
    [1, 100],
    [101, 19],
    [120, 1],
    [121, 100],
    [221, 30],
  ]);
});
