import { describe, expect, test } from "bun:test";
import { isCrlfClean, retrPieces, stuffAndTerminate, terminateInPlace, toCrlf, toCrlfParts, topOf } from "./wire.ts";

const s = (b: Buffer[]) => Buffer.concat(b).toString("latin1");
const text = s; // for where `s` is a local string

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
      const crlf = s.replace(/\r\n|\r|\n/g, "\r\n");
      expect(toCrlf(b).toString("latin1")).toBe(crlf);
      // RETR of it, split anywhere into a prefix and a body.
      const cut = rnd(s.length + 1);
      const r = retrPieces(Buffer.from(s.slice(0, cut), "latin1"), Buffer.from(s.slice(cut), "latin1"));
      const joined = s.slice(0, cut).endsWith("\r") && s.slice(cut).startsWith("\n") ? crlf : s.slice(0, cut).replace(/\r\n|\r|\n/g, "\r\n") + s.slice(cut).replace(/\r\n|\r|\n/g, "\r\n");
      expect(r.size).toBe(joined.length);
      expect(text(r.pieces)).toBe(`${joined.replace(/^\./gm, "..")}${joined === "" || joined.endsWith("\r\n") ? "" : "\r\n"}.\r\n`);
      // In place, after a status line at any alignment: done only for clean input without
      // dot lines, and then the same bytes as the general way.
      const head = "+OK".slice(0, rnd(4));
      const buf = Buffer.alloc(head.length + s.length + 5, 0x7e);
      buf.write(head + s, "latin1");
      const end = terminateInPlace(buf, head.length, head.length + s.length);
      const plain = clean(s) && !/(^|\n)\./.test(s);
      expect(end >= 0).toBe(plain);
      if (plain) expect(buf.subarray(head.length, end).toString("latin1")).toBe(text(r.pieces));
    }
  });
});

describe("RETR pieces", () => {
  const whole = (prefix: string, body: string) => {
    const crlf = (prefix + body).replace(/\r\n|\r|\n/g, "\r\n");
    return { crlf, stuffed: `${crlf.replace(/^\./gm, "..")}${crlf === "" || crlf.endsWith("\r\n") ? "" : "\r\n"}.\r\n` };
  };
  test("the one-pass path and the general one agree with the definition", () => {
    const cases: [string, string][] = [
      ["Return-Path: <a@b>\r\n", "Subject: x\r\n\r\nbody\r\n"],
      ["", "Subject: x\r\n\r\nbody"],
      ["X: 1\r\n", ""],
      ["", ""],
      ["X: 1\r\n", ".starts with a dot\r\n"],
      ["X: 1\r\n", "a\r\n.b\r\n"],
      ["X: 1\n", "a\nb\r\n"],
      ["X: 1\r", "\nb"],
      ["X: 1", ".b\r\n"],
      [".X: 1\r\n", "a\r\n"],
    ];
    for (const [p, b] of cases) {
      const { pieces, size } = retrPieces(Buffer.from(p, "latin1"), Buffer.from(b, "latin1"));
      const want = whole(p, b);
      expect(s(pieces)).toBe(want.stuffed);
      expect(size).toBe(want.crlf.length);
    }
  });
  test("a clean message without dot lines is not copied", () => {
    const prefix = Buffer.from("Return-Path: <a@b>\r\n");
    const body = Buffer.from("Subject: x\r\n\r\nbody\r\n");
    const { pieces } = retrPieces(prefix, body);
    expect(pieces[0]).toBe(prefix);
    expect(pieces[1]).toBe(body);
  });
});
