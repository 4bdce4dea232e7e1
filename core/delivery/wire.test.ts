import { expect, test } from "bun:test";
import { dotStuff, has8bit, isUtf8Address, xtext } from "./wire.ts";

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
