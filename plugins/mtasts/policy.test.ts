import { describe, expect, test } from "bun:test";
import { mxMatches, parsePolicy, parseTxt } from "./policy.ts";

describe("MTA-STS policy (RFC 8461)", () => {
  test("parses a policy with several mx lines", () => {
    const p = parsePolicy("version: STSv1\r\nmode: enforce\r\nmx: mx1.example.com\r\nmx: *.example.net\r\nmax_age: 604800\r\n");
    expect(p).toEqual({ mode: "enforce", mx: ["mx1.example.com", "*.example.net"], maxAge: 604800 });
  });
  test("refuses bad policies with the reason", () => {
    expect(() => parsePolicy("version: STSv2\nmode: enforce\nmx: a.b\nmax_age: 1\n")).toThrow("STSv1");
    expect(() => parsePolicy("version: STSv1\nmode: strict\nmx: a.b\nmax_age: 1\n")).toThrow("mode");
    expect(() => parsePolicy("version: STSv1\nmode: enforce\nmax_age: 1\n")).toThrow("no mx");
    expect(() => parsePolicy("version: STSv1\nmode: enforce\nmx: a.b\nmax_age: 99999999999\n")).toThrow("max_age");
    expect(() => parsePolicy("<html>")).toThrow();
  });
  test("TXT record: exactly one STSv1 record with an id", () => {
    expect(parseTxt(["v=STSv1; id=20240101T000000;"])).toBe("20240101T000000");
    expect(parseTxt(["v=spf1 -all", "v=STSv1; id=abc"])).toBe("abc");
    expect(parseTxt(["v=STSv1; id=a", "v=STSv1; id=b"])).toBeUndefined();
    expect(parseTxt(["v=STSv1;"])).toBeUndefined();
    expect(parseTxt([])).toBeUndefined();
  });
  test("mx patterns: exact, and a wildcard for exactly one label", () => {
    expect(mxMatches("mx1.example.com.", ["mx1.example.com"])).toBe(true);
    expect(mxMatches("MX2.example.net", ["*.example.net"])).toBe(true);
    expect(mxMatches("a.b.example.net", ["*.example.net"])).toBe(false);
    expect(mxMatches("example.net", ["*.example.net"])).toBe(false);
    expect(mxMatches("evil-example.net", ["*.example.net"])).toBe(false);
    expect(mxMatches("mx.other.com", ["mx1.example.com"])).toBe(false);
  });
});
