import { expect, test } from "bun:test";
import { fromDomain, parseRawHeader } from "./header.ts";

test("fields with folds, byte ranges, body start; bare LF tolerated", () => {
  const raw = Buffer.from("A: 1\r\nB: 2\r\n 3\r\n\r\nbody");
  const h = parseRawHeader(raw);
  expect(h.fields.map((f) => [f.name, f.raw, f.start, f.end])).toEqual([
    ["a", "A: 1", 0, 6],
    ["b", "B: 2\r\n 3", 6, 16],
  ]);
  expect(h.bodyStart).toBe(18);
  expect(parseRawHeader(Buffer.from("A: 1\nB: 2\n\nx")).fields.map((f) => f.name)).toEqual(["a", "b"]);
  // No empty line: a non-field line starts the body.
  expect(parseRawHeader(Buffer.from("A: 1\r\nnot a field\r\n")).bodyStart).toBe(6);
});

test("From domain: angle address, bare address, comments; none for two From fields", () => {
  const d = (s: string) => fromDomain(parseRawHeader(Buffer.from(s + "\r\n\r\n")).fields);
  expect(d('From: "Bob <x@evil.test>" <bob@Example.TEST>')).toBe("example.test");
  expect(d("From: bob@b.test (Bob)")).toBe("b.test");
  expect(d("From: a@a.test\r\nFrom: b@b.test")).toBeNull();
  expect(d("To: a@a.test")).toBeNull();
});

test("From domain of an SMTPUTF8 message is read as UTF-8", () => {
  expect(fromDomain(parseRawHeader(Buffer.from("From: Klaus <klaus@Bücher.test>\r\n\r\n")).fields)).toBe("bücher.test");
  expect(fromDomain(parseRawHeader(Buffer.from("From: klaus@bücher.test\r\n\r\n")).fields)).toBe("bücher.test");
});
