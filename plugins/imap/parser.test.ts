import { describe, expect, test } from "bun:test";
import { Args, CommandReader, ParseError, tokenize, type ReadEvent } from "./parser.ts";

const limits = { maxLine: 100, maxLiteral: (c: string, authenticated: boolean) => (c === "APPEND" ? 1000 : authenticated ? 50 : 20), maxLiterals: 80, maxLiteralCount: 3 };
function read(input: string | Buffer): ReadEvent[] {
  const r = new CommandReader(limits);
  r.push(Buffer.isBuffer(input) ? input : Buffer.from(input));
  const out: ReadEvent[] = [];
  for (let ev = r.next(); ev; ev = r.next()) out.push(ev);
  return out;
}

describe("CommandReader", () => {
  test("splits pipelined commands and accepts bare LF", () => {
    const evs = read("a NOOP\r\nb CAPABILITY\n");
    expect(evs).toEqual([
      { kind: "command", chunks: ["a NOOP"] },
      { kind: "command", chunks: ["b CAPABILITY"] },
    ]);
  });

  test("synchronizing literal asks for continuation, then completes", () => {
    const r = new CommandReader(limits);
    r.push(Buffer.from("a LOGIN {5}\r\n"));
    expect(r.next()).toEqual({ kind: "continue" });
    expect(r.next()).toBeNull();
    r.push(Buffer.from("al"));
    expect(r.next()).toBeNull();
    r.push(Buffer.from("ice pw\r\n"));
    const ev = r.next();
    expect(ev?.kind).toBe("command");
    const toks = tokenize((ev as { chunks: (string | Uint8Array)[] }).chunks);
    const a = new Args(toks);
    expect([a.atom(), a.atom(), a.astring(), a.astring()]).toEqual(["a", "LOGIN", "alice", "pw"]);
  });

  test("non-synchronizing literal (LITERAL+) gets no continuation", () => {
    const evs = read("a LOGIN {3+}\r\nbob {2+}\r\npw\r\n");
    expect(evs.length).toBe(1);
    expect(evs[0]!.kind).toBe("command");
  });

  test("oversized synchronizing literal is refused without reading it", () => {
    const evs = read("a LOGIN {51}\r\nb NOOP\r\n");
    expect(evs[0]).toMatchObject({ kind: "error", tag: "a", status: "BAD", fatal: false });
    expect(evs[1]).toEqual({ kind: "command", chunks: ["b NOOP"] });
  });

  test("APPEND over the limit gets NO [TOOBIG]; a non-synchronizing one is fatal", () => {
    expect(read("x APPEND INBOX {1001}\r\n")[0]).toMatchObject({ kind: "error", tag: "x", status: "NO", code: "TOOBIG", fatal: false });
    expect(read("x APPEND INBOX {1001+}\r\n")[0]).toMatchObject({ kind: "error", status: "NO", fatal: true });
    expect(read("x APPEND INBOX {1000}\r\n")[0]).toEqual({ kind: "continue" });
  });

  test("too many literals in one command", () => {
    const evs = read("a X {1+}\r\na {1+}\r\nb {1+}\r\nc {1+}\r\n");
    expect(evs.at(-1)).toMatchObject({ kind: "error", fatal: true });
  });

  test("a line over the bound is fatal, even without a newline", () => {
    expect(read("a " + "x".repeat(200))[0]).toMatchObject({ kind: "error", status: "BAD", fatal: true });
    expect(read("a " + "x".repeat(200) + "\r\n")[0]).toMatchObject({ kind: "error", fatal: true });
  });

  test("literals before login are held to the smaller bound; after, the command's", () => {
    const r = new CommandReader(limits);
    r.push(Buffer.from(`a LOGIN u {30+}\r\n${"p".repeat(30)}\r\n`));
    expect(r.next()).toMatchObject({ kind: "error", tag: "a", status: "BAD", text: "Literal too large", fatal: true });
    const s = new CommandReader(limits);
    s.authenticated = true;
    s.push(Buffer.from(`b LOGIN u {30+}\r\n${"p".repeat(30)}\r\n`));
    expect(s.next()).toMatchObject({ kind: "command" });
  });

  test("readLine for IDLE/AUTHENTICATE", () => {
    const r = new CommandReader(limits);
    r.push(Buffer.from("DONE\r\nrest"));
    expect(r.readLine()).toBe("DONE");
    expect(r.readLine()).toBeNull();
  });

  test("binary literal data survives", () => {
    const bytes = Buffer.from([0x41, 0x00, 0xff, 0x0d, 0x0a, 0x42]);
    const r = new CommandReader(limits);
    r.push(Buffer.concat([Buffer.from("a APPEND INBOX ~{6+}\r\n"), bytes, Buffer.from("\r\n")]));
    const ev = r.next() as { kind: "command"; chunks: (string | Uint8Array)[] };
    const a = new Args(tokenize(ev.chunks));
    a.atom();
    a.atom();
    a.astring();
    const lit = a.literal();
    expect(lit.binary).toBe(true);
    expect(Buffer.from(lit.data)).toEqual(bytes);
  });
});

describe("tokenize", () => {
  test("atoms, quoted strings with escapes, nested lists, NIL", () => {
    const t = tokenize(['a1 SEARCH OR (FROM "a \\"b\\" \\\\") NIL (1:3,5)']);
    expect(t).toEqual([
      { t: "atom", v: "a1" },
      { t: "atom", v: "SEARCH" },
      { t: "atom", v: "OR" },
      {
        t: "list",
        v: [
          { t: "atom", v: "FROM" },
          { t: "quoted", v: 'a "b" \\' },
        ],
      },
      { t: "atom", v: "NIL" },
      { t: "list", v: [{ t: "atom", v: "1:3,5" }] },
    ]);
  });

  test("fetch sections stay one atom", () => {
    const t = tokenize(["a FETCH 1 (BODY.PEEK[HEADER.FIELDS (SUBJECT FROM)]<0.100> FLAGS)"]);
    expect(t[3]).toEqual({
      t: "list",
      v: [
        { t: "atom", v: "BODY.PEEK[HEADER.FIELDS (SUBJECT FROM)]<0.100>" },
        { t: "atom", v: "FLAGS" },
      ],
    });
  });

  test("syntax errors are ParseErrors", () => {
    for (const bad of ['a LOGIN "unterminated', "a X (1 2", "a X 1)", 'a X "bad \\q escape"', "a X " + "(".repeat(40) + ")".repeat(40)]) {
      expect(() => tokenize([bad])).toThrow(ParseError);
    }
  });
});

describe("Args", () => {
  test("typed getters throw ParseError on the wrong token", () => {
    const a = new Args(tokenize(['x "q" (l) 12']));
    expect(a.atom()).toBe("x");
    expect(() => a.atom()).toThrow(ParseError);
    const b = new Args(tokenize(["x (l)"]));
    b.atom();
    expect(() => b.astring()).toThrow(ParseError);
    const c = new Args(tokenize(["99999999999999999999"]));
    expect(() => c.number()).toThrow(ParseError);
    const d = new Args(tokenize(["a b"]));
    d.atom();
    expect(() => d.end()).toThrow(ParseError);
  });
});

test("fuzz: random input split anywhere only ever yields events or ParseErrors", () => {
  let seed = 7;
  const rnd = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const pieces = ["(", ")", "{3}", "{2+}", "~{1}", '"', "\\", "[", "]", " ", "\r\n", "\n", "abc", "BODY[1 (X)]", "\x00", "ü"];
  let worst = 0;
  for (let round = 0; round < 200; round++) {
    const t0 = performance.now();
    let s = "t FETCH ";
    for (let i = 0; i < 60; i++) s += pieces[Math.floor(rnd() * pieces.length)];
    const bytes = Buffer.from(s + "\r\n");
    const r = new CommandReader(limits);
    for (let i = 0; i < bytes.length; ) {
      const n = 1 + Math.floor(rnd() * 7);
      r.push(bytes.subarray(i, i + n));
      i += n;
      for (let ev = r.next(); ev; ev = r.next()) {
        if (ev.kind !== "command") continue;
        try {
          tokenize(ev.chunks);
        } catch (e) {
          expect(e).toBeInstanceOf(ParseError);
        }
      }
    }
    worst = Math.max(worst, performance.now() - t0);
  }
  // Issue 11: no input may take more than 1 s of event-loop time.
  expect(worst).toBeLessThan(1000);
});
