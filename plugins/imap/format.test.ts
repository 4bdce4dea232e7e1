import { describe, expect, test } from "bun:test";
import type { Envelope, MimePart } from "../../core/mime/types.ts";
import { astr, formatBodyStructure, formatEnvelope, imapDateTime, parseDate, parseDateTime, str } from "./format.ts";

const part = (o: Partial<MimePart>): MimePart => ({
  type: "text",
  subtype: "plain",
  params: {},
  id: null,
  description: null,
  encoding: "7BIT",
  md5: null,
  disposition: null,
  language: null,
  location: null,
  headerStart: 0,
  bodyStart: 0,
  end: 0,
  lines: 0,
  ...o,
});
const env = (o: Partial<Envelope>): Envelope => ({
  date: null,
  subject: null,
  from: null,
  sender: null,
  replyTo: null,
  to: null,
  cc: null,
  bcc: null,
  inReplyTo: null,
  messageId: null,
  ...o,
});

describe("strings", () => {
  test("quoted when possible, literal for CR/LF and 8-bit without UTF-8", () => {
    expect(str('a "b" \\')).toBe('"a \\"b\\" \\\\"');
    expect(str("two\r\nlines")).toBe("{10}\r\ntwo\r\nlines");
    expect(str("café")).toBe("{5}\r\ncafé");
    expect(str("café", true)).toBe('"café"');
    expect(astr("INBOX")).toBe("INBOX");
    expect(astr("NIL")).toBe('"NIL"');
    expect(astr("has space")).toBe('"has space"');
  });
});

describe("dates", () => {
  test("date-time round trip and time zones", () => {
    const ms = parseDateTime("17-Jul-1996 02:44:25 -0700")!;
    expect(new Date(ms).toISOString()).toBe("1996-07-17T09:44:25.000Z");
    expect(imapDateTime(ms)).toBe('"17-Jul-1996 09:44:25 +0000"');
    expect(parseDateTime(" 7-Jul-1996 02:44:25 +0000")).not.toBeNull();
    expect(parseDateTime("32-Jul-1996 02:44:25 +0000")).toBeNull();
    expect(parseDateTime("1-Foo-1996 02:44:25 +0000")).toBeNull();
    expect(parseDate("1-Feb-1994")).toBe(Date.UTC(1994, 1, 1));
    expect(parseDate("1-Feb-94")).toBeNull();
  });
});

describe("ENVELOPE", () => {
  test("RFC 9051 §7.5.2 order; sender and reply-to default to from; groups", () => {
    const from = [{ name: "Terry Gray", adl: null, mailbox: "gray", host: "cac.washington.edu" }] as Envelope["from"];
    const e = env({
      date: "Wed, 17 Jul 1996 02:23:25 -0700 (PDT)",
      subject: "IMAP4rev2 WG mtg summary",
      from,
      to: [
        { name: null, adl: null, mailbox: "imap", host: "cac.washington.edu" },
        { name: null, adl: null, mailbox: "undisclosed", host: null },
        { name: null, adl: null, mailbox: null, host: null },
      ],
      messageId: "<B27397-0100000@cac.washington.edu>",
    });
    expect(formatEnvelope(e)).toBe(
      '("Wed, 17 Jul 1996 02:23:25 -0700 (PDT)" "IMAP4rev2 WG mtg summary" (("Terry Gray" NIL "gray" "cac.washington.edu")) ' +
        '(("Terry Gray" NIL "gray" "cac.washington.edu")) (("Terry Gray" NIL "gray" "cac.washington.edu")) ' +
        '((NIL NIL "imap" "cac.washington.edu")(NIL NIL "undisclosed" NIL)(NIL NIL NIL NIL)) NIL NIL NIL "<B27397-0100000@cac.washington.edu>")',
    );
  });
});

describe("BODYSTRUCTURE", () => {
  test("text part with lines and extension data", () => {
    const p = part({ params: { charset: "utf-8" }, bodyStart: 10, end: 110, lines: 3, disposition: { type: "inline", params: {} }, language: ["en"] });
    expect(formatBodyStructure(p, true)).toBe('("TEXT" "PLAIN" ("charset" "utf-8") NIL NIL "7BIT" 100 3 NIL ("inline" NIL) "en" NIL)');
    expect(formatBodyStructure(p, false)).toBe('("TEXT" "PLAIN" ("charset" "utf-8") NIL NIL "7BIT" 100 3)');
  });

  test("multipart with a message/rfc822 part", () => {
    const inner = part({ bodyStart: 50, end: 60, lines: 1 });
    const msg = part({ type: "message", subtype: "rfc822", bodyStart: 30, end: 60, lines: 4, message: { envelope: env({ subject: "in" }), body: inner } });
    const att = part({
      type: "application",
      subtype: "pdf",
      encoding: "BASE64",
      params: { name: "a.pdf" },
      bodyStart: 70,
      end: 170,
      disposition: { type: "attachment", params: { filename: "a.pdf" } },
    });
    const root = part({ type: "multipart", subtype: "mixed", params: { boundary: "x" }, parts: [msg, att] });
    expect(formatBodyStructure(root, true)).toBe(
      '(("MESSAGE" "RFC822" NIL NIL NIL "7BIT" 30 (NIL "in" NIL NIL NIL NIL NIL NIL NIL NIL) ("TEXT" "PLAIN" NIL NIL NIL "7BIT" 10 1 NIL NIL NIL NIL) 4 NIL NIL NIL NIL)' +
        '("APPLICATION" "PDF" ("name" "a.pdf") NIL NIL "BASE64" 100 NIL ("attachment" ("filename" "a.pdf")) NIL NIL) "MIXED" ("boundary" "x") NIL NIL NIL)',
    );
    expect(formatBodyStructure(root, false)).toBe(
      '(("MESSAGE" "RFC822" NIL NIL NIL "7BIT" 30 (NIL "in" NIL NIL NIL NIL NIL NIL NIL NIL) ("TEXT" "PLAIN" NIL NIL NIL "7BIT" 10 1) 4)' +
        '("APPLICATION" "PDF" ("name" "a.pdf") NIL NIL "BASE64" 100) "MIXED")',
    );
  });
});
