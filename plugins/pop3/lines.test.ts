import { describe, expect, test } from "bun:test";
import { createLineReader, type LineItem } from "./lines.ts";

const texts = (items: LineItem[]) => items.map((i) => (i.kind === "line" ? i.bytes.toString() : "<toolong>"));

describe("line reader", () => {
  test("splits CRLF and bare LF lines, keeps partial lines", () => {
    const r = createLineReader(100);
    expect(texts(r.push(Buffer.from("STAT\r\nLIST 1\nRE")))).toEqual(["STAT", "LIST 1"]);
    expect(texts(r.push(Buffer.from("TR 2\r")))).toEqual([]);
    expect(texts(r.push(Buffer.from("\n")))).toEqual(["RETR 2"]);
  });

  test("an overlong line yields one toolong item and the reader recovers", () => {
    const r = createLineReader(10);
    expect(texts(r.push(Buffer.from("x".repeat(50))))).toEqual([]);
    expect(texts(r.push(Buffer.from("y".repeat(50) + "\r\nNOOP\r\n")))).toEqual(["<toolong>", "NOOP"]);
    expect(texts(r.push(Buffer.from("0123456789A\r\n0123456789\r\n")))).toEqual(["<toolong>", "0123456789"]);
  });

  test("reset drops buffered bytes", () => {
    const r = createLineReader(100);
    r.push(Buffer.from("USER evil"));
    r.reset();
    expect(texts(r.push(Buffer.from("CAPA\r\n")))).toEqual(["CAPA"]);
  });
});
