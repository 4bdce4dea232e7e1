import { test, expect } from "bun:test";
import { analyze, parseDate } from "./analyze.ts";
import { parseAddressList } from "./address.ts";
import { parseEnvelope } from "./envelope.ts";
import { decodeWords, decodeQP } from "./decode.ts";
import { parseValueWithParams } from "./params.ts";

const enc = (s: string) => new TextEncoder().encode(s.replace(/\r?\n/g, "\r\n"));

test("address lists: names, quotes, comments, groups (RFC 9051 §7.5.2 markers)", () => {
  expect(parseAddressList('"Doe, John" <john@x.test>, jane@y.test (Jane Y), <bare@z.test>')).toEqual([
    { name: "Doe, John", adl: null, mailbox: "john", host: "x.test" },
    { name: "Jane Y", adl: null, mailbox: "jane", host: "y.test" },
    { name: null, adl: null, mailbox: "bare", host: "z.test" },
  ]);
  expect(parseAddressList("undisclosed-recipients:;")).toEqual([
    { name: null, adl: null, mailbox: "undisclosed-recipients", host: null },
    { name: null, adl: null, mailbox: null, host: null },
  ]);
  // RFC 3501 §7.4.2: groups give their markers only, a comment is no address.
  expect(parseAddressList("group:;, group2: (comment) ;")).toEqual([
    { name: null, adl: null, mailbox: "group", host: null },
    { name: null, adl: null, mailbox: null, host: null },
    { name: null, adl: null, mailbox: "group2", host: null },
    { name: null, adl: null, mailbox: null, host: null },
  ]);
  expect(parseAddressList("Team: a@x.test, B <b@x.test>; c@y.test")).toEqual([
    { name: null, adl: null, mailbox: "Team", host: null },
    { name: null, adl: null, mailbox: "a", host: "x.test" },
    { name: "B", adl: null, mailbox: "b", host: "x.test" },
    { name: null, adl: null, mailbox: null, host: null },
    { name: null, adl: null, mailbox: "c", host: "y.test" },
  ]);
  expect(parseAddressList("=?utf-8?q?J=C3=BCrgen?= <j@x.test>")[0]!.name).toBe("=?utf-8?q?J=C3=BCrgen?=");
  expect(parseAddressList("<@route1,@route2:u@h.test>")[0]).toEqual({ name: null, adl: null, mailbox: "u", host: "h.test" });
  expect(parseAddressList('"a b"@h.test')[0]!.mailbox).toBe('"a b"');
  expect(parseAddressList("John Q. Public <jqp@x.test>")[0]!.name).toBe("John Q. Public");
  expect(parseAddressList("nodomain")[0]).toEqual({ name: null, adl: null, mailbox: "nodomain", host: "" });
  expect(parseAddressList("")).toEqual([]);
  expect(parseAddressList(", ,")).toEqual([]);
  expect(() => parseAddressList('"unterminated <a@b> (( <<<')).not.toThrow();
  expect(parseAddressList("Broken <a@b.test")[0]).toEqual({ name: "Broken", adl: null, mailbox: "a", host: "b.test" });
});

test("envelope: raw values, Sender/Reply-To default to From", () => {
  const e = parseEnvelope(enc("Date: Tue, 1 Jul 2003 10:52:37 +0200\nSubject: =?iso-8859-1?q?h=E9?=\nFrom: A <a@x.test>\nTo: b@y.test\nMessage-ID: <m1@x>\nIn-Reply-To: <m0@x>\n\nbody"));
  expect(e.date).toBe("Tue, 1 Jul 2003 10:52:37 +0200");
  expect(e.subject).toBe("=?iso-8859-1?q?h=E9?=");
  expect(e.sender).toEqual(e.from);
  expect(e.replyTo).toEqual(e.from);
  expect(e.to).toEqual([{ name: null, adl: null, mailbox: "b", host: "y.test" }]);
  expect(e.cc).toBeNull();
  expect(e.messageId).toBe("<m1@x>");
  expect(e.inReplyTo).toBe("<m0@x>");
  const empty = parseEnvelope(enc("\nbody"));
  expect(empty).toEqual({ date: null, subject: null, from: null, sender: null, replyTo: null, to: null, cc: null, bcc: null, inReplyTo: null, messageId: null });
});

test("RFC 2047 decoding: adjacent words, split multibyte chars, unknown charset, Q underscores", () => {
  expect(decodeWords("=?utf-8?q?caf=C3=A9?= au =?UTF-8?B?bGFpdA==?=")).toBe("café au lait");
  expect(decodeWords("=?utf-8?q?a?= =?utf-8?q?b?=")).toBe("ab");
  expect(decodeWords("=?utf-8?q?=C3?= =?utf-8?q?=A9?=")).toBe("é");
  expect(decodeWords("=?iso-8859-1?q?hello_world?=")).toBe("hello world");
  expect(decodeWords("=?x-nonsense?q?abc?=")).toBe("abc");
  expect(decodeWords("=?utf-8*en?q?x?=")).toBe("x");
  expect(decodeWords("plain =? not encoded")).toBe("plain =? not encoded");
  expect(new TextDecoder().decode(decodeQP("a=3Db=\r\nc=ZZ="))).toBe("a=bc=ZZ");
});

test("RFC 2231 parameters: continuations, charset, mixed", () => {
  const v = parseValueWithParams("attachment; filename*0*=utf-8''caf%C3%A9%20; filename*1=\"menu.pdf\"; size=10");
  expect(v.value).toBe("attachment");
  expect(v.params).toEqual({ filename: "café menu.pdf", size: "10" });
  expect(parseValueWithParams("text/plain; title*=iso-8859-1'en'%A3%20rate").params.title).toBe("£ rate");
  expect(parseValueWithParams('TEXT/Plain; CHARSET="utf-8"; name="a\\"b"').params).toEqual({ charset: "utf-8", name: 'a"b' });
  expect(parseValueWithParams("text/plain; name=unquoted file.txt").params.name).toBe("unquoted file.txt");
});

test("analyze: decoded search fields, date, preview from qp text", () => {
  const a = analyze(
    enc(`From: =?utf-8?q?J=C3=BCrgen?= <j@x.test>
To: a@y.test, "B" <b@y.test>
Cc: Team: c@y.test;
Subject: =?utf-8?b?SGVsbG8g8J+Yig==?=
Date: Tue, 1 Jul 2003 10:52:37 +0200 (CEST)
Message-ID: <abc@x.test>
Content-Type: multipart/alternative; boundary=b

--b
Content-Type: text/plain; charset=iso-8859-1
Content-Transfer-Encoding: quoted-printable

Gr=FC=DFe,   this is   the =
preview.
--b
Content-Type: text/html

<p>html</p>
--b--
`),
    50,
  );
  expect(a.subject).toBe("Hello 😊");
  expect(a.from).toBe("Jürgen <j@x.test>");
  expect(a.to).toBe("a@y.test, B <b@y.test>");
  expect(a.cc).toBe("c@y.test");
  expect(a.bcc).toBe("");
  expect(a.messageId).toBe("<abc@x.test>");
  expect(a.sentDate).toBe(Date.UTC(2003, 6, 1, 8, 52, 37));
  expect(a.preview).toBe("Grüße, this is the preview.");
  expect(a.structure.headerStart).toBe(0);
  expect(a.structure.bodyStart).toBeGreaterThan(50);
});

test("analyze: html-only preview, base64 text, long preview truncated", () => {
  const html = analyze(enc("Content-Type: text/html\n\n<html><head><style>x{}</style></head><body><p>Hi&amp;bye &#233;</p></body></html>"));
  expect(html.preview).toBe("Hi&bye é");
  const long = analyze(
    enc(
      "Content-Transfer-Encoding: base64\n\n" +
        Buffer.from("word ".repeat(200))
          .toString("base64")
          .replace(/(.{76})/g, "$1\n"),
    ),
  );
  expect(long.preview.length).toBeLessThanOrEqual(200);
  expect(long.preview.startsWith("word word")).toBe(true);
  const att = analyze(enc("Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Disposition: attachment\n\nsecret\n--b--\n"));
  expect(att.preview).toBe("");
});

test("parseDate tolerates junk", () => {
  expect(parseDate("not a date")).toBeNull();
  expect(parseDate(null)).toBeNull();
  expect(parseDate("1 Jan 2020 00:00:00 GMT")).toBe(Date.UTC(2020, 0, 1));
});
