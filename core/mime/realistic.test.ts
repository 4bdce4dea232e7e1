// A realistic nested message: every part's bytes are addressable by offsets, as IMAP
// BODY[section] needs (RFC 9051 §6.4.5).
import { test, expect } from "bun:test";
import { analyze } from "./analyze.ts";
import type { MimePart } from "./types.ts";

const crlf = (s: string) => s.replace(/\r?\n/g, "\r\n");
const raw = new TextEncoder().encode(
  crlf(`Return-Path: <sender@example.org>
From: "Sender, Sam" <sender@example.org>
To: =?ISO-2022-JP?B?GyRCJUYlOSVIGyhC?= <jp@example.jp>, undisclosed-recipients:;
Subject: Fwd: Überweisung ✓
Date: Mon, 3 Mar 2025 09:15:00 -0500
Message-ID: <outer.1@example.org>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="outer"

This is a multi-part message in MIME format.
--outer
Content-Type: multipart/alternative; boundary="alt"

--alt
Content-Type: text/plain; charset="utf-8"
Content-Transfer-Encoding: 8bit

Hallo, anbei die Weiterleitung. 👋
--alt
Content-Type: multipart/related; boundary="rel"; type="text/html"

--rel
Content-Type: text/html; charset=utf-8

<html><body><img src="cid:logo@x"> Hallo</body></html>
--rel
Content-Type: image/png
Content-ID: <logo@x>
Content-Transfer-Encoding: base64

iVBORw0KGgo=
--rel--
--alt--
--outer
Content-Type: message/rfc822
Content-Disposition: inline

From: Bank <noreply@bank.example>
To: sender@example.org
Subject: =?utf-8?Q?=C3=9Cberweisung?=
Content-Type: multipart/mixed; boundary=inner

--inner
Content-Type: text/plain

Ihre Überweisung wurde ausgeführt.
--inner
Content-Type: application/pdf; name*=utf-8''Beleg%20M%C3%A4rz.pdf
Content-Disposition: attachment; filename*=utf-8''Beleg%20M%C3%A4rz.pdf
Content-Transfer-Encoding: base64

JVBERi0xLjQK
--inner--

--outer--
`),
);

function section(root: MimePart, path: number[]): MimePart {
  let p = root;
  for (const n of path) {
    const body: MimePart = p.message ? p.message.body : p;
    p = body.parts ? body.parts[n - 1]! : body;
  }
  return p;
}

test("nested tree, offsets, envelopes, search fields", () => {
  const a = analyze(raw, 0);
  const s = a.structure;
  const text = (p: MimePart) => new TextDecoder().decode(raw.subarray(p.bodyStart, p.end));
  expect(s.subtype).toBe("mixed");
  expect(s.parts!.length).toBe(2);
  expect(section(s, [1]).subtype).toBe("alternative");
  expect(text(section(s, [1, 1]))).toBe("Hallo, anbei die Weiterleitung. 👋");
  expect(section(s, [1, 1]).encoding).toBe("8BIT");
  expect(section(s, [1, 2]).subtype).toBe("related");
  expect(section(s, [1, 2]).params).toEqual({ boundary: "rel", type: "text/html" });
  expect(section(s, [1, 2, 2]).id).toBe("<logo@x>");
  expect(text(section(s, [1, 2, 2]))).toBe("iVBORw0KGgo=");
  const fwd = section(s, [2]);
  expect(fwd.type).toBe("message");
  expect(fwd.disposition).toEqual({ type: "inline", params: {} });
  expect(fwd.message!.envelope.subject).toBe("=?utf-8?Q?=C3=9Cberweisung?=");
  expect(fwd.message!.envelope.from![0]).toEqual({ name: "Bank", adl: null, mailbox: "noreply", host: "bank.example" });
  expect(text(section(s, [2, 1]))).toBe("Ihre Überweisung wurde ausgeführt.");
  const pdf = section(s, [2, 2]);
  expect(pdf.params.name).toBe("Beleg März.pdf");
  expect(pdf.disposition!.params.filename).toBe("Beleg März.pdf");
  // the forwarded message ends before the blank line and the outer close delimiter
  expect(new TextDecoder().decode(raw.subarray(fwd.bodyStart, fwd.end)).endsWith("--inner--\r\n")).toBe(true);
  expect(a.subject).toBe("Fwd: Überweisung ✓");
  expect(a.from).toBe("Sender, Sam <sender@example.org>");
  expect(a.to).toBe("テスト <jp@example.jp>");
  expect(a.envelope.to!.length).toBe(3); // address + group start + group end
  expect(a.preview).toBe("Hallo, anbei die Weiterleitung. 👋");
  expect(a.sentDate).toBe(Date.UTC(2025, 2, 3, 14, 15));
});
