import { describe, expect, test } from "bun:test";
import { isCrlfClean, stuffAndTerminate, toCrlf, toCrlfParts, topOf } from "./wire.ts";

const s = (b: Buffer[]) => Buffer.concat(b).toString("latin1");

describe("multi-line encoding", () => {
  test("dot-stuffs lines beginning with a dot and terminates", () => {
    const msg = Buffer.from(".first\r\nmid\r\n.\r\n..two\r\nend.\r\n");
    expect(s(stuffAndTerminate([msg]))).toBe("..first\r\nmid\r\n..\r\n...two\r\nend.\r\n.\r\n");
  });
  test("adds a CRLF to a message without a final line end", () => {
    expect(s(stuffAndTerminate([Buffer.from("a\r\nb")]))).toBe("a\r\nb\r\n.\r\n");
    expect(s(stuffAndTerminate([Buffer.from("")]))).toBe(".\r\n");
  });
  test("normalizes bare LF and CR, and leaves clean input uncopied", () => {
    const clean = Buffer.from("a\r\nb\r\n");
    expect(isCrlfClean(clean)).toBe(true);
    expect(toCrlf(clean)).toBe(clean);
    expect(toCrlf(Buffer.from("a\nb\rc\r\n\n")).toString()).toBe("a\r\nb\r\nc\r\n\r\n");
    for (const bad of ["x\ny", "x\r", "\ny", "a\r\rb\n", "a\r\n\n"]) expect(isCrlfClean(Buffer.from(bad))).toBe(false);
  });
  test("TOP returns the header, the blank line and n body lines", () => {
    const msg = Buffer.from("Subject: x\r\nFrom: y\r\n\r\nl1\r\nl2\r\nl3\r\n");
    expect(topOf(msg, 0).toString()).toBe("Subject: x\r\nFrom: y\r\n\r\n");
    expect(topOf(msg, 2).toString()).toBe("Subject: x\r\nFrom: y\r\n\r\nl1\r\nl2\r\n");
    expect(topOf(msg, 99).toString()).toBe(msg.toString());
    expect(topOf(Buffer.from("Subject: only header\r\n"), 3).toString()).toBe("Subject: only header\r\n");
    expect(topOf(Buffer.from("\r\nbody\r\nmore\r\n"), 1).toString()).toBe("\r\nbody\r\n");
  });
});

describe("stored parts", () => {
  test("a prefix ending at a line end and a clean blob pass uncopied", () => {
    const prefix = Buffer.from("Return-Path: <a@b>\r\n");
    const body = Buffer.from("Subject: x\r\n\r\n.hi\r\n");
    const parts = toCrlfParts(prefix, body);
    expect(parts[0]).toBe(prefix);
    expect(parts[1]).toBe(body);
    expect(s(stuffAndTerminate(parts))).toBe("Return-Path: <a@b>\r\nSubject: x\r\n\r\n..hi\r\n.\r\n");
  });
  test("bare line ends in either part become CRLF; a prefix cut mid-line is joined first", () => {
    expect(s(toCrlfParts(Buffer.from("X-A: 1\n"), Buffer.from("S: y\n\n.b\n")))).toBe("X-A: 1\r\nS: y\r\n\r\n.b\r\n");
    expect(s(toCrlfParts(Buffer.from("X-A: 1\r"), Buffer.from("\nS: y\r\n")))).toBe("X-A: 1\r\nS: y\r\n");
    expect(s(toCrlfParts(Buffer.alloc(0), Buffer.from("a\rb")))).toBe("a\r\nb");
  });
});

describe("CRLF check", () => {
  // The definition, as a regex over the bytes as latin1.
  const clean = (s: string) => !/(?<!\r)\n|\r(?!\n)/.test(s);
  test("agrees with the definition on random mixes, at every alignment", () => {
    const alphabet = ["a", "\r", "\n", "\r\n", "\r\n", "\r\n", "."];
    let seed = 7;
    const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2147483648), seed % n);
    for (let t = 0; t < 5000; t++) {
      let s = "";
      for (let i = rnd(40); i > 0; i--) s += alphabet[rnd(alphabet.length)];
      if (rnd(2)) s = s.replace(/(?<!\r)\n|\r(?!\n)/g, "");
      const at = rnd(4); // an unaligned view must be checked too
      const b = Buffer.from(`${"x".repeat(at)}${s}`, "latin1").subarray(at);
      expect(isCrlfClean(b)).toBe(clean(s));
      expect(toCrlf(b).toString("latin1")).toBe(s.replace(/\r\n|\r|\n/g, "\r\n"));
    }
  });
});
