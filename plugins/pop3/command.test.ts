import { describe, expect, test } from "bun:test";
import { parseCommand, parseNumber } from "./command.ts";

const p = (s: string) => parseCommand(Buffer.from(s, "latin1"));

describe("command parser", () => {
  test("keyword is case-insensitive, arguments split on spaces", () => {
    expect(p("top 1  5")).toEqual({ ok: true, cmd: { keyword: "TOP", rest: "1  5", args: ["1", "5"] } });
    expect(p("STAT")).toEqual({ ok: true, cmd: { keyword: "STAT", rest: "", args: [] } });
  });
  test("PASS keeps spaces in its argument", () => {
    const r = p("PASS my secret pw ");
    expect(r.ok && r.cmd.rest).toBe("my secret pw ");
  });
  test("bad keywords and control characters are errors", () => {
    for (const s of ["", "X", "RETRIEVE 1", "12 3", "ST\0T", "NOOP\r", "RE-T 1"]) expect(p(s).ok).toBe(false);
    expect(parseCommand(Buffer.from([0x50, 0x41, 0x53, 0x53, 0x20, 0xff])).ok).toBe(false);
  });
  test("numbers are plain decimal", () => {
    expect(parseNumber("12")).toBe(12);
    expect(parseNumber("0")).toBe(0);
    for (const s of ["-1", "+1", "1.0", "0x10", "", "1234567890", undefined]) expect(parseNumber(s)).toBeNull();
  });
});

test("UTF-8 arguments are decoded (a password), ASCII ones the same as before", () => {
  expect(parseCommand(Buffer.from("PASS grüße wörd")).ok && (parseCommand(Buffer.from("PASS grüße wörd")) as { ok: true; cmd: { rest: string } }).cmd.rest).toBe("grüße wörd");
  expect(p("TOP 1\t2")).toEqual({ ok: true, cmd: { keyword: "TOP", rest: "1\t2", args: ["1", "2"] } });
  expect(p("RETR 7")).toEqual({ ok: true, cmd: { keyword: "RETR", rest: "7", args: ["7"] } });
});
