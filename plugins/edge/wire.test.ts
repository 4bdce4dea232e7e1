import { expect, test } from "bun:test";
import { Wire } from "./wire.ts";

test("lines, multi-line replies, and DATA unstuffed up to CRLF.CRLF", async () => {
  const w = new Wire();
  w.feed(Buffer.from("EHLO x\r\n250-a\r\n25"));
  expect(await w.line()).toBe("EHLO x");
  const reply = w.reply();
  w.feed(Buffer.from("0 b\r\n..dot\r\nbody\r\n.\r\nNEXT\r\n"));
  expect(await reply).toEqual({ code: 250, text: "a b" });
  const d = await w.data(1000);
  expect(d).toEqual({ raw: Buffer.from(".dot\r\nbody\r\n") });
  expect(await w.line()).toBe("NEXT");
  w.end();
  expect(await w.line()).toBeNull();
});

test("DATA with a bare LF or over the limit is read to its end and refused", async () => {
  const w = new Wire();
  w.feed(Buffer.from("a\nb\r\n.\r\n" + "x".repeat(50) + "\r\n.\r\nQUIT\r\n"));
  expect(await w.data(1000)).toEqual({ error: "bare-lf" });
  expect(await w.data(20)).toEqual({ error: "too-big" });
  expect(await w.line()).toBe("QUIT");
});
