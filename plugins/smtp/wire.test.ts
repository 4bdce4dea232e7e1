import { describe, expect, test } from "bun:test";
import { createWireReader, type WireEvent, type WireLimits } from "./wire.ts";

const LIMITS: WireLimits = { maxCommandLine: 512, maxDataLine: 1000, maxMessageSize: 10_000 };

type Ev = WireEvent | { type: "data-as-text"; text: string };

/** Feed `input` in pieces of `step` bytes; a "DATA" line switches to data mode, as the
 *  session does after its 354. Message/chunk data is turned into text for comparisons. */
function run(input: string | Buffer, step = 1 << 30, limits = LIMITS): Ev[] {
  const r = createWireReader(limits);
  const bytes = typeof input === "string" ? Buffer.from(input, "latin1") : input;
  const out: Ev[] = [];
  const drain = () => {
    for (let ev = r.read(); ev; ev = r.read()) {
      if (ev.type === "line" && ev.line.toUpperCase() === "DATA") r.startData();
      if ((ev.type === "message" || ev.type === "chunk") && ev.data) out.push({ ...ev, data: null, text: ev.data.toString("latin1") } as unknown as Ev);
      else out.push(ev);
    }
  };
  for (let i = 0; i < bytes.length; i += step) {
    r.push(bytes.subarray(i, i + step));
    drain();
  }
  return out;
}

const lines = (evs: Ev[]) => evs.map((e) => (e.type === "line" ? e.line : e.type));
const texts = (evs: Ev[]) => evs.filter((e) => "text" in e).map((e) => (e as unknown as { text: string }).text);

describe("command lines", () => {
  test("CRLF and bare LF end a command line; pipelined lines come out in order", () => {
    expect(lines(run("EHLO a\r\nMAIL FROM:<x@y>\nRCPT TO:<z@y>\r\n"))).toEqual(["EHLO a", "MAIL FROM:<x@y>", "RCPT TO:<z@y>"]);
  });
  test("lines split across chunks byte by byte", () => {
    expect(lines(run("EHLO a\r\nNOOP\r\n", 1))).toEqual(["EHLO a", "NOOP"]);
  });
  test("an incomplete line waits for more input", () => {
    expect(run("EHLO a")).toEqual([]);
  });
  test("an over-long line gives one event and its rest is dropped", () => {
    const long = "X".repeat(2000);
    for (const step of [7, 100, 1 << 20]) expect(lines(run(`${long}\r\nNOOP\r\n`, step))).toEqual(["line-too-long", "NOOP"]);
  });
  test("binary junk is flagged, not decoded as a command", () => {
    const evs = run(Buffer.from([0x00, 0xff, 0xfe, 0x41, 0x0d, 0x0a]));
    expect(evs).toHaveLength(1);
    expect(evs[0]).toMatchObject({ type: "line", binary: true });
  });
  test("UTF-8 command lines decode as UTF-8", () => {
    const evs = run(Buffer.from("RCPT TO:<jürgen@bücher.example>\r\n", "utf8"));
    expect(evs[0]).toMatchObject({ type: "line", line: "RCPT TO:<jürgen@bücher.example>", binary: false });
  });
});

describe("DATA", () => {
  const msg = "Subject: hi\r\n\r\nline 1\r\n..dotted\r\n.\r\n";
  test("dot-unstuffing and the end marker, at every chunk size", () => {
    for (const step of [1, 2, 3, 5, 8, 64, 1 << 20]) {
      const evs = run(`DATA\r\n${msg}QUIT\r\n`, step);
      expect(texts(evs)).toEqual(["Subject: hi\r\n\r\nline 1\r\n.dotted\r\n"]);
      expect(lines(evs).at(-1)).toBe("QUIT");
    }
  });
  test("an empty message", () => {
    expect(texts(run("DATA\r\n.\r\n"))).toEqual([""]);
  });
  test("a line of only dots keeps all but one", () => {
    expect(texts(run("DATA\r\na\r\n...\r\n.\r\n"))).toEqual(["a\r\n..\r\n"]);
  });
  test("size counts the unstuffed bytes", () => {
    const evs = run("DATA\r\nab\r\n.\r\n");
    expect(evs.find((e) => e.type === "message")).toMatchObject({ size: 4 });
  });
  // SMTP smuggling: "\n.\n" or "\r\n.\n" must never end the data.
  for (const [name, body] of [
    ["LF.LF", "x\n.\nMAIL FROM:<evil@x>\r\n"],
    ["CRLF.LF", "x\r\n.\nMAIL FROM:<evil@x>\r\n"],
    ["LF.CRLF", "x\n.\r\nMAIL FROM:<evil@x>\r\n"],
    ["bare CR", "x\r.\r\nMAIL FROM:<evil@x>\r\n"],
    ["CR.CR", "x\r\n.\rMAIL\r\n"],
    ["bare LF at start", "\nabc\r\n"],
  ] as const) {
    test(`bare line endings are refused: ${name}`, () => {
      for (const step of [1, 3, 1 << 20]) {
        const evs = run(`DATA\r\n${body}\r\n.\r\nQUIT\r\n`, step);
        expect(evs.map((e) => e.type)).toEqual(["line", "bare-eol"]);
      }
    });
  }
  test("a message over the size limit is read to its end and refused", () => {
    const big = ("y".repeat(98) + "\r\n").repeat(200);
    const evs = run(`DATA\r\n${big}.\r\nNOOP\r\n`, 333);
    expect(evs.find((e) => e.type === "message")).toMatchObject({ type: "message", data: null, error: "too-big" });
    expect(lines(evs).at(-1)).toBe("NOOP");
  });
  test("an over-long data line is refused at the end of the data", () => {
    const evs = run(`DATA\r\n${"z".repeat(1500)}\r\n.\r\nNOOP\r\n`, 100);
    expect(evs.find((e) => e.type === "message")).toMatchObject({ data: null, error: "line-too-long" });
    expect(lines(evs).at(-1)).toBe("NOOP");
  });
  test("a line of exactly the limit passes", () => {
    const line = "w".repeat(998);
    expect(texts(run(`DATA\r\n${line}\r\n.\r\n`, 10))).toEqual([`${line}\r\n`]);
  });
  test("8-bit bytes pass through untouched", () => {
    const body = Buffer.concat([Buffer.from("DATA\r\n"), Buffer.from([0xc3, 0xa9, 0xff, 0x00, 0x0d, 0x0a]), Buffer.from(".\r\n")]);
    expect(texts(run(body, 2))).toEqual([Buffer.from([0xc3, 0xa9, 0xff, 0x00, 0x0d, 0x0a]).toString("latin1")]);
  });
});

describe("BDAT", () => {
  test("chunks are read by count, pipelined, including CRLF.CRLF inside", () => {
    const c1 = "Subject: x\r\n\r\n";
    const c2 = "a\r\n.\r\nb\r\n";
    for (const step of [1, 4, 1 << 20]) {
      const evs = run(`BDAT ${c1.length}\r\n${c1}BDAT ${c2.length} LAST\r\n${c2}QUIT\r\n`, step);
      expect(evs.map((e) => e.type)).toEqual(["chunk", "chunk", "line"]);
      expect(evs[0]).toMatchObject({ size: c1.length, last: false });
      expect(evs[1]).toMatchObject({ size: c2.length, last: true });
      expect(texts(evs)).toEqual([c1, c2]);
    }
  });
  test("BDAT 0 LAST", () => {
    expect(run("BDAT 0 LAST\r\n")).toEqual([{ type: "chunk", size: 0, last: true, data: null, text: "" } as unknown as Ev]);
  });
  test("a chunk over the budget is consumed and dropped", () => {
    const r = createWireReader(LIMITS);
    r.setBudget(10);
    r.push(Buffer.from(`BDAT 20 LAST\r\n${"q".repeat(18)}\r\nNOOP\r\n`));
    expect(r.read()).toMatchObject({ type: "chunk", size: 20, data: null, error: "too-big" });
    expect(r.read()).toMatchObject({ type: "line", line: "NOOP" });
  });
  test("bare LF in a chunk is flagged", () => {
    expect(run("BDAT 4 LAST\r\na\nb\n")[0]).toMatchObject({ type: "chunk", error: "bare-eol", data: null });
  });
  test("CRLF split across two chunks is fine", () => {
    const evs = run("BDAT 2\r\na\rBDAT 1 LAST\r\n\n");
    expect(evs.map((e) => ("error" in e ? e.error : undefined))).toEqual([undefined, undefined]);
  });
  test("a malformed BDAT line is reported", () => {
    expect(run("BDAT abc\r\n")[0]).toMatchObject({ type: "bdat-syntax" });
  });
});

describe("discard (STARTTLS)", () => {
  test("drops pipelined input", () => {
    const r = createWireReader(LIMITS);
    r.push(Buffer.from("STARTTLS\r\nMAIL FROM:<a@b>\r\n"));
    expect(r.read()).toMatchObject({ line: "STARTTLS" });
    r.discard();
    expect(r.read()).toBeNull();
    expect(r.buffered()).toBe(0);
  });
});

describe("DATA round trip (property)", () => {
  // A client dot-stuffs (RFC 5321 §4.5.2) and ends with CRLF.CRLF; whatever the chunking,
  // the parser must give back the original message byte for byte.
  test("random messages with dot lines, random chunk sizes", () => {
    let seed = 42;
    const rnd = (n: number) => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n;
    const pieces = [".", "..", "", "x", ". x", "abc.def", "\u00e9t\u00e9", ".\t", "...."];
    for (let round = 0; round < 300; round++) {
      const lines = Array.from({ length: rnd(12) }, () => pieces[rnd(pieces.length)]!);
      const original = lines.map((l) => `${l}\r\n`).join("");
      const stuffed = lines.map((l) => `${l.startsWith(".") ? "." : ""}${l}\r\n`).join("");
      const wire = Buffer.from(`DATA\r\n${stuffed}.\r\nNOOP\r\n`, "utf8");
      const r = createWireReader(LIMITS);
      const got: string[] = [];
      let i = 0;
      while (i < wire.length) {
        const step = 1 + rnd(9);
        r.push(wire.subarray(i, i + step));
        i += step;
        for (let ev = r.read(); ev; ev = r.read()) {
          if (ev.type === "line" && ev.line === "DATA") r.startData();
          else if (ev.type === "message") got.push(ev.data!.toString("utf8"));
          else if (ev.type === "line") got.push(`line:${ev.line}`);
          else throw new Error(`unexpected ${ev.type}`);
        }
      }
      expect(got).toEqual([original, "line:NOOP"]);
    }
  });
});
