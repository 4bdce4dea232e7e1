import { expect, test } from "bun:test";
import { dotStuff, has8bit, isUtf8Address, xtext } from "./wire.ts";
import { dotStuff as dotStuffPieces } from "../dot-stuff.ts";

const enc = (s: string) => new TextEncoder().encode(s);
const stuffed = (...parts: string[]) => dotStuff(parts.map(enc)).toString("latin1");

test("dot-stuffing doubles leading dots and terminates the data (RFC 5321 §4.5.2)", () => {
  expect(stuffed("a\r\n.b\r\n..c\r\n")).toBe("a\r\n..b\r\n...c\r\n.\r\n");
  expect(stuffed(".x\r\n")).toBe("..x\r\n.\r\n");
  expect(stuffed("no final newline")).toBe("no final newline\r\n.\r\n");
  expect(stuffed("Sub: x\r\n", "\r\n.\r\nend")).toBe("Sub: x\r\n\r\n..\r\nend\r\n.\r\n");
  expect(stuffed("")).toBe(".\r\n");
  // A dot after a bare LF is not at a line start in SMTP terms.
  expect(stuffed("a\n.b\r\n")).toBe("a\n.b\r\n.\r\n");
});

test("8-bit and UTF-8 detection, xtext", () => {
  expect(has8bit([enc("plain ascii")])).toBe(false);
  expect(has8bit([enc("x"), enc("grüße")])).toBe(true);
  expect(isUtf8Address("bob@b.test")).toBe(false);
  expect(isUtf8Address("jösé@b.test")).toBe(true);
  expect(xtext("rfc822;a+b=c@x")).toBe("rfc822;a+2Bb+3Dc@x");
});

test("line-aligned parts are stuffed without a copy; others across their boundary", () => {
  // A prefix of header lines and the blob: each part's own bytes are reused.
  const prefix = Buffer.from("Received: x\r\n");
  const blob = Buffer.from(".dot first\r\nbody\r\n");
  const pieces = dotStuffPieces([prefix, blob]);
  expect(Buffer.concat(pieces).toString("latin1")).toBe("Received: x\r\n..dot first\r\nbody\r\n.\r\n");
  expect(pieces[0]!.buffer).toBe(prefix.buffer);
  expect(pieces.some((p) => p.buffer === blob.buffer)).toBe(true);
  // A CR at the end of one part and LF "." at the start of the next are one line end.
  expect(stuffed("a\r", "\n.b\r\n")).toBe("a\r\n..b\r\n.\r\n");
  expect(stuffed("a\r\n", "", ".b")).toBe("a\r\n..b\r\n.\r\n");
  expect(stuffed("", "")).toBe(".\r\n");
});
