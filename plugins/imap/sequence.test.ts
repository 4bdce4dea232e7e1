import { describe, expect, test } from "bun:test";
import { formatSet, formatSetInOrder, parseSeqSet, resolveSeqSet, resolveUidSet } from "./sequence.ts";
import { decodeMutf7, encodeMutf7, matchPattern, patternToRegExp } from "./names.ts";

describe("sequence sets", () => {
  test("parse and resolve", () => {
    expect(parseSeqSet("1:3,5,*")).toEqual([
      [1, 3],
      [5, 5],
      [Infinity, Infinity],
    ]);
    expect(parseSeqSet("4:2")).toEqual([[2, 4]]);
    for (const bad of ["0", "1:0", "a", "1,,2", "1:", ""]) expect(() => parseSeqSet(bad)).toThrow();
    const uids = [3, 7, 8, 20];
    expect(resolveUidSet(parseSeqSet("1:7"), uids)).toEqual([0, 1]);
    expect(resolveUidSet(parseSeqSet("21:*"), uids)).toEqual([3]); // n:* always includes the last
    expect(resolveUidSet(parseSeqSet("9:19"), uids)).toEqual([]);
    expect(resolveSeqSet(parseSeqSet("2:*"), 4)).toEqual([1, 2, 3]);
    expect(resolveSeqSet(parseSeqSet("1:*"), 0)).toEqual([]);
    expect(() => resolveSeqSet(parseSeqSet("5"), 4)).toThrow();
    expect(formatSet([5, 1, 2, 3, 9])).toBe("1:3,5,9");
    expect(formatSetInOrder([7, 8, 3, 4])).toBe("7:8,3:4");
  });
});

describe("mailbox names", () => {
  test("modified UTF-7 (RFC 3501 §5.1.3)", () => {
    expect(encodeMutf7("~peter/mail/台北/日本語")).toBe("~peter/mail/&U,BTFw-/&ZeVnLIqe-");
    expect(decodeMutf7("~peter/mail/&U,BTFw-/&ZeVnLIqe-")).toBe("~peter/mail/台北/日本語");
    expect(encodeMutf7("Tom & Jerry")).toBe("Tom &- Jerry");
    expect(decodeMutf7("Tom &- Jerry")).toBe("Tom & Jerry");
    expect(decodeMutf7("&Jjo!")).toBeNull();
  });
  test("LIST patterns", () => {
    const m = (name: string, pat: string) => matchPattern(name, patternToRegExp(pat), pat);
    expect(m("a/b", "a/%")).toBe(true);
    expect(m("a/b/c", "a/%")).toBe(false);
    expect(m("a/b/c", "a/*")).toBe(true);
    expect(m("INBOX", "inbox")).toBe(true);
    expect(m("x.y", "x?y")).toBe(false);
  });
});
