import { test, expect, describe } from "bun:test";
import { parseStructure, countLines, MAX_DEPTH } from "./structure.ts";
import type { MimePart } from "./types.ts";

const enc = (s: string) => new TextEncoder().encode(s);
const crlf = (s: string) => s.replace(/\r?\n/g, "\r\n");
function slice(b: Uint8Array, s: number, e: number): string {
  return new TextDecoder().decode(b.subarray(s, e));
}

describe("single part", () => {
  test("defaults to text/plain us-ascii 7BIT; header/body split; lines", () => {
    const b = enc(crlf("Subject: hi\nFrom: a@b\n\nline1\nline2\n"));
    const p = parseStructure(b);
    expect(p.type).toBe("text");
    expect(p.subtype).toBe("plain");
    expect(p.params).toEqual({ charset: "us-ascii" });
    expect(p.encoding).toBe("7BIT");
    expect(p.headerStart).toBe(0);
    expect(slice(b, p.bodyStart, p.end)).toBe("line1\r\nline2\r\n");
    expect(p.lines).toBe(2);
  });

  test("offset shifts every position", () => {
    const b = enc(crlf("A: b\n\nx\n"));
    const p = parseStructure(b, 100);
    expect(p.headerStart).toBe(100);
    expect(p.bodyStart).toBe(100 + 8);
    expect(p.end).toBe(100 + b.length);
  });

  test("bare LF message", () => {
    const b = enc("Content-Type: text/html; charset=utf-8\n\n<p>x</p>\nmore");
    const p = parseStructure(b);
    expect(p.subtype).toBe("html");
    expect(p.params.charset).toBe("utf-8");
    expect(slice(b, p.bodyStart, p.end)).toBe("<p>x</p>\nmore");
    expect(p.lines).toBe(2);
  });

  test("no blank line: all header, empty body", () => {
    const b = enc("Subject: only header\r\nFrom: x@y\r\n");
    const p = parseStructure(b);
    expect(p.bodyStart).toBe(b.length);
    expect(p.lines).toBe(0);
  });

  test("no header at all", () => {
    const b = enc("just text\r\n");
    const p = parseStructure(b);
    expect(p.bodyStart).toBe(0);
    expect(p.lines).toBe(1);
  });

  test("folded header, comments, upper-case encoding, invalid content-type → default", () => {
    const b = enc(crlf('Content-Type: text/plain;\n\tcharset="ISO-8859-1" (latin)\nContent-Transfer-Encoding: quoted-printable (qp)\n\nx'));
    const p = parseStructure(b);
    expect(p.params).toEqual({ charset: "ISO-8859-1" });
    expect(p.encoding).toBe("QUOTED-PRINTABLE");
    const bad = parseStructure(enc("Content-Type: garbage\r\n\r\nx"));
    expect([bad.type, bad.subtype, bad.params.charset]).toEqual(["text", "plain", "us-ascii"]);
  });

  test("other MIME fields", () => {
    const b = enc(
      crlf(
        'Content-Type: image/png; name=a.png\nContent-ID: <id1@x>\nContent-Description: A pic\nContent-MD5: Q2hlY2s=\nContent-Disposition: attachment; filename="a b.png"; size=3\nContent-Language: en, de\nContent-Location: http://x/\n y.png\nContent-Transfer-Encoding: base64\n\nAAAA\n',
      ),
    );
    const p = parseStructure(b);
    expect(p.type + "/" + p.subtype).toBe("image/png");
    expect(p.id).toBe("<id1@x>");
    expect(p.description).toBe("A pic");
    expect(p.md5).toBe("Q2hlY2s=");
    expect(p.disposition).toEqual({ type: "attachment", params: { filename: "a b.png", size: "3" } });
    expect(p.language).toEqual(["en", "de"]);
    expect(p.location).toBe("http://x/y.png");
    expect(p.encoding).toBe("BASE64");
  });
});

describe("multipart", () => {
  const msg = crlf(`From: a@b
Content-Type: multipart/mixed; boundary="XX"

preamble
--XX
Content-Type: text/plain

part one
--XX
Content-Type: multipart/alternative; boundary=YY

--YY
Content-Type: text/plain

alt plain
--YY
Content-Type: text/html

<b>alt</b>
--YY--
inner epilogue
--XX
Content-Type: application/octet-stream
Content-Transfer-Encoding: base64

AAEC
--XX--
epilogue
`);
  const b = enc(msg);
  const p = parseStructure(b);

  test("parts and nested parts with exact ranges", () => {
    expect(p.type).toBe("multipart");
    expect(p.subtype).toBe("mixed");
    expect(p.parts!.length).toBe(3);
    const [one, alt, bin] = p.parts!;
    expect(slice(b, one!.bodyStart, one!.end)).toBe("part one");
    expect(slice(b, one!.headerStart, one!.bodyStart)).toBe("Content-Type: text/plain\r\n\r\n");
    expect(alt!.subtype).toBe("alternative");
    expect(alt!.parts!.map((x) => slice(b, x.bodyStart, x.end))).toEqual(["alt plain", "<b>alt</b>"]);
    expect(alt!.parts![1]!.subtype).toBe("html");
    expect(slice(b, bin!.bodyStart, bin!.end)).toBe("AAEC");
    expect(bin!.encoding).toBe("BASE64");
    expect(p.end).toBe(b.length);
  });

  test("missing final boundary: last part runs to the end", () => {
    const m = enc(crlf("Content-Type: multipart/mixed; boundary=b\n\n--b\n\nfirst\n--b\n\nsecond\nstill second\n"));
    const q = parseStructure(m);
    expect(q.parts!.length).toBe(2);
    expect(slice(m, q.parts![1]!.bodyStart, q.parts![1]!.end)).toBe("second\r\nstill second\r\n");
  });

  test("part without header and without blank line", () => {
    const m = enc(crlf("Content-Type: multipart/mixed; boundary=b\n\n--b\nhello world\n--b--\n"));
    const q = parseStructure(m);
    expect(q.parts!.length).toBe(1);
    const part = q.parts![0]!;
    expect(part.type).toBe("text");
    expect(slice(m, part.bodyStart, part.end)).toBe("hello world");
  });

  test("no boundary lines at all: one part", () => {
    const m = enc(crlf("Content-Type: multipart/mixed; boundary=b\n\nno parts here\n"));
    const q = parseStructure(m);
    expect(q.parts!.length).toBe(1);
  });

  test("multipart without boundary parameter falls back to text/plain", () => {
    const q = parseStructure(enc(crlf("Content-Type: multipart/mixed\n\n--x\n\nhi\n")));
    expect(q.type).toBe("text");
    expect(q.parts).toBeUndefined();
  });

  test("boundary that is a prefix of another line is not a delimiter; transport padding allowed", () => {
    const m = enc(crlf("Content-Type: multipart/mixed; boundary=ab\n\n--ab  \n\nx\n--abc\ny\n--ab--\n"));
    const q = parseStructure(m);
    expect(q.parts!.length).toBe(1);
    expect(slice(m, q.parts![0]!.bodyStart, q.parts![0]!.end)).toBe("x\r\n--abc\r\ny");
  });

  test("empty part", () => {
    const m = enc(crlf("Content-Type: multipart/mixed; boundary=b\n\n--b\n--b\n\nz\n--b--\n"));
    const q = parseStructure(m);
    expect(q.parts!.length).toBe(2);
    expect(q.parts![0]!.end - q.parts![0]!.bodyStart).toBe(0);
  });

  test("multipart/digest parts default to message/rfc822", () => {
    const m = enc(crlf("Content-Type: multipart/digest; boundary=d\n\n--d\n\nSubject: inner\n\nbody\n--d--\n"));
    const q = parseStructure(m);
    const part = q.parts![0]!;
    expect(part.type + "/" + part.subtype).toBe("message/rfc822");
    expect(part.message!.envelope.subject).toBe("inner");
  });

  test("bare LF multipart", () => {
    const m = enc("Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\none\n--b\n\ntwo\n--b--\n");
    const q = parseStructure(m);
    expect(q.parts!.map((x) => slice(m, x.bodyStart, x.end))).toEqual(["one", "two"]);
  });
});

describe("message/rfc822", () => {
  test("encapsulated message with envelope and its own structure", () => {
    const m = enc(
      crlf(`Content-Type: multipart/mixed; boundary=o

--o
Content-Type: message/rfc822

From: "Inner, Person" <inner@x.test>
To: a@b.test, Group: c@d.test, e@f.test;
Subject: =?utf-8?q?caf=C3=A9?=
Content-Type: multipart/alternative; boundary=i

--i

inner text
--i--
--o--
`),
    );
    const q = parseStructure(m);
    const msgPart = q.parts![0]!;
    expect(msgPart.type).toBe("message");
    const inner = msgPart.message!;
    expect(inner.envelope.subject).toBe("=?utf-8?q?caf=C3=A9?=");
    expect(inner.envelope.from).toEqual([{ name: "Inner, Person", adl: null, mailbox: "inner", host: "x.test" }]);
    expect(inner.envelope.to!.length).toBe(5);
    expect(inner.body.subtype).toBe("alternative");
    expect(inner.body.headerStart).toBe(msgPart.bodyStart);
    expect(slice(m, inner.body.parts![0]!.bodyStart, inner.body.parts![0]!.end)).toBe("inner text");
    expect(msgPart.lines).toBe(countLines(m, msgPart.bodyStart, msgPart.end));
  });

  test("base64-encoded message/rfc822 is a leaf", () => {
    const q = parseStructure(enc(crlf("Content-Type: message/rfc822\nContent-Transfer-Encoding: base64\n\nU3ViamVjdDogeA==\n")));
    expect(q.message).toBeUndefined();
  });
});

describe("bounds", () => {
  test("deep nesting is cut at MAX_DEPTH without recursion errors", () => {
    let s = "";
    for (let i = 0; i < 200; i++) s += `Content-Type: multipart/mixed; boundary=b${i}\r\n\r\n--b${i}\r\n`;
    s += "\r\nleaf\r\n";
    const q = parseStructure(enc(s));
    let depth = 0;
    let cur: MimePart | undefined = q;
    while (cur?.parts?.length) {
      depth++;
      cur = cur.parts[0];
    }
    expect(depth).toBeLessThanOrEqual(MAX_DEPTH + 1);
    expect(depth).toBeGreaterThan(10);
  });

  test("deep message/rfc822 nesting", () => {
    let s = "";
    for (let i = 0; i < 100; i++) s += "Content-Type: message/rfc822\r\n\r\n";
    s += "Subject: x\r\n\r\nbody";
    const q = parseStructure(enc(s));
    let n = 0;
    let cur: MimePart | undefined = q;
    while (cur?.message) {
      n++;
      cur = cur.message.body;
    }
    expect(n).toBeLessThanOrEqual(MAX_DEPTH);
  });

  test("garbage never throws", () => {
    const rnd = new Uint8Array(20000);
    let x = 12345;
    for (let i = 0; i < rnd.length; i++) {
      x = (x * 1103515245 + 12345) & 0x7fffffff;
      rnd[i] = '-\r\n:ab;="\\( \t'[x % 13]!.charCodeAt(0) ^ (x % 97 === 0 ? 0x80 : 0);
    }
    expect(() => parseStructure(rnd)).not.toThrow();
    const mp = enc("Content-Type: multipart/mixed; boundary=a\r\n\r\n" + new TextDecoder().decode(rnd));
    expect(() => parseStructure(mp)).not.toThrow();
  });
});

describe("odd but real input", () => {
  test("empty message and lone CRLF", () => {
    const e = parseStructure(new Uint8Array(0));
    expect([e.headerStart, e.bodyStart, e.end, e.lines]).toEqual([0, 0, 0, 0]);
    const c = parseStructure(enc("\r\n"));
    expect([c.bodyStart, c.end, c.lines]).toEqual([2, 2, 0]);
  });

  test("boundaries are case-sensitive and may contain specials", () => {
    const m = enc(crlf('Content-Type: multipart/mixed; boundary="=_Part(1)+.?*"\n\n--=_part(1)+.?*\nnot a delimiter\n--=_Part(1)+.?*\n\nreal\n--=_Part(1)+.?*--\n'));
    const q = parseStructure(m);
    expect(q.parts!.length).toBe(1);
    expect(slice(m, q.parts![0]!.bodyStart, q.parts![0]!.end)).toBe("real");
  });

  test("first Content-Type wins; no space after colon; raw UTF-8 parameter", () => {
    const m = enc(crlf('Content-Type:text/html;charset=utf-8\nContent-Type: image/gif\nContent-Disposition: inline; filename="naïve.txt"\n\nx'));
    const q = parseStructure(m);
    expect(q.subtype).toBe("html");
    expect(q.disposition!.params.filename).toBe("naïve.txt");
  });

  test("RFC 2231 filename in a part; obsolete whitespace before colon", () => {
    const m = enc(
      crlf("Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type : application/pdf\nContent-Disposition: attachment;\n filename*0*=UTF-8''%E2%82%AC;\n filename*1=uro.pdf\n\n%PDF\n--b--\n"),
    );
    const p = parseStructure(m).parts![0]!;
    expect(p.type + "/" + p.subtype).toBe("application/pdf");
    expect(p.disposition).toEqual({ type: "attachment", params: { filename: "€uro.pdf" } });
  });

  test("very long header line and many parts stay bounded", () => {
    const long = "X-Long: " + "a".repeat(200_000) + "\r\n\r\nbody";
    expect(parseStructure(enc(long)).lines).toBe(1);
    let s = "Content-Type: multipart/mixed; boundary=b\r\n\r\n";
    for (let i = 0; i < 6000; i++) s += "--b\r\n\r\nx\r\n";
    const q = parseStructure(enc(s));
    expect(q.parts!.length).toBeGreaterThan(100);
    expect(q.parts!.length).toBeLessThanOrEqual(6000);
  });
});
