import { expect, test } from "bun:test";
import { OutBuffer } from "./output.ts";

const text = (pieces: Buffer[]) => Buffer.concat(pieces).toString("latin1");

test("lines, small pieces and reserved bytes are gathered in order into one buffer", () => {
  const out = new OutBuffer();
  out.line("+OK 5 octets");
  const at = out.reserve(8)!;
  at.buf.write("hello\r\n", at.offset, "latin1");
  out.commit(7);
  out.push(Buffer.from(".\r\n"));
  out.line("+OK é");
  expect(out.bytes).toBe(14 + 7 + 3 + 8);
  const pieces = out.take();
  expect(pieces).toHaveLength(1);
  expect(text(pieces)).toBe("+OK 5 octets\r\nhello\r\n.\r\n+OK \xc3\xa9\r\n");
  expect(out.bytes).toBe(0);
  expect(out.take()).toEqual([]);
});

test("a large piece is kept as it is, between the gathered ones; a buffer taken is never written again", () => {
  const out = new OutBuffer();
  out.line("+OK big");
  const big = Buffer.alloc(200_000, "x");
  out.push(big);
  out.line("+OK after");
  const first = out.take();
  expect(first).toHaveLength(3);
  expect(first[1]).toBe(big);
  expect(text(first)).toBe(`+OK big\r\n${"x".repeat(200_000)}+OK after\r\n`);
  const before = text(first);
  // The next answers go to a new buffer: the pieces handed out stay as they were.
  for (let i = 0; i < 100; i++) out.line(`+OK line ${i}`);
  expect(text(first)).toBe(before);
  expect(out.reserve(10_000_000)).toBeNull();
  // Filling past one buffer: each piece whole, order kept.
  const many: string[] = [];
  for (let i = 0; i < 20; i++) {
    const b = Buffer.alloc(20_000, String.fromCharCode(97 + i));
    out.push(b);
    many.push(b.toString("latin1"));
  }
  expect(text(out.take())).toBe(Array.from({ length: 100 }, (_, i) => `+OK line ${i}\r\n`).join("") + many.join(""));
});

test("recycle(): once the socket let go of every piece taken, the next answers refill the same buffer", () => {
  const out = new OutBuffer();
  out.line("+OK one");
  const [first] = out.take();
  out.recycle();
  out.line("+OK two");
  const [second] = out.take();
  expect(second!.buffer).toBe(first!.buffer);
  expect(text([second!])).toBe("+OK two\r\n");
  // Not recycled (the socket may hold it): a new buffer, the old bytes left alone.
  out.line("+OK three");
  const [third] = out.take();
  expect(third!.buffer).not.toBe(second!.buffer);
  expect(text([second!])).toBe("+OK two\r\n");
  // recycle() after answers were gathered again keeps them (nothing is overwritten).
  out.line("+OK four");
  out.recycle();
  out.line("+OK five");
  expect(text(out.take())).toBe("+OK four\r\n+OK five\r\n");
  expect(text([third!])).toBe("+OK three\r\n");
});
