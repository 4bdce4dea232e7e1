import { describe, expect, test } from "bun:test";
import { checkHeaderBounds } from "./header-bounds.ts";

const lim = { maxSection: 1024 * 1024, maxField: 64 * 1024 };
const msg = (head: string, body = "body\r\n") => Buffer.from(`${head}\r\n${body}`, "latin1");

describe("checkHeaderBounds", () => {
  test("an ordinary message passes", () => {
    expect(checkHeaderBounds(msg("From: a@b.test\r\nTo: c@d.test\r\nSubject: hi\r\n"), lim)).toBeNull();
  });
  test("a large body under a small header passes", () => {
    expect(checkHeaderBounds(msg("From: a@b.test\r\n", "x".repeat(5_000_000)), lim)).toBeNull();
  });
  test("a message with no body and no empty line passes when small", () => {
    expect(checkHeaderBounds(Buffer.from("From: a@b.test\r\n"), lim)).toBeNull();
  });
  test("a folded field over 64 KB: 554 5.6.0 naming the field", () => {
    const to = "To: " + Array.from({ length: 5000 }, (_, i) => `user${i}@example.test`).join(",\r\n ") + "\r\n";
    const r = checkHeaderBounds(msg(`From: a@b.test\r\n${to}Subject: x\r\n`), lim);
    expect(r).toEqual({ code: 554, enhanced: "5.6.0", text: "Header field To too long (limit 64 KB per field)" });
  });
  test("a field of exactly the limit passes, one byte more does not", () => {
    const field = (n: number) => `X-Pad: ${"a".repeat(n - 9)}\r\n`;
    expect(field(100)).toHaveLength(100);
    const small = { maxSection: 4096, maxField: 100 };
    expect(checkHeaderBounds(msg(field(100)), small)).toBeNull();
    expect(checkHeaderBounds(msg(field(101)), small)?.code).toBe(554);
  });
  test("a header section over 1 MB of small fields: 552 5.3.4", () => {
    const head = Array.from({ length: 40_000 }, (_, i) => `X-F${i}: ${"v".repeat(30)}`).join("\r\n") + "\r\n";
    expect(checkHeaderBounds(msg(head), lim)).toEqual({ code: 552, enhanced: "5.3.4", text: "Message header section too large (limit 1 MB)" });
  });
  test("a 50 MB header without an empty line is refused (552)", () => {
    const big = Buffer.alloc(50 * 1024 * 1024, "a");
    big.write("To: ", 0, "latin1");
    for (let i = 1000; i < big.length; i += 1000) big.write("\r\n ", i - 3, "latin1");
    expect(checkHeaderBounds(big, lim)?.code).toBe(552);
  });
  test("an empty header section (body only) passes", () => {
    expect(checkHeaderBounds(Buffer.from("\r\nbody\r\n"), lim)).toBeNull();
  });
});
