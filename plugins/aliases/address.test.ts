import { expect, test } from "bun:test";
import { domainForms, isValidDomain, isValidLocal, normDomain, normLocal, splitAddress, splitTag } from "./address.ts";

test("IDN: punycode and UTF-8 spellings are one domain", () => {
  expect(normDomain("xn--bcher-kva.example")).toBe("bücher.example");
  expect(normDomain("Bücher.Example.")).toBe("bücher.example");
  expect(domainForms("bücher.example")).toEqual(["bücher.example", "xn--bcher-kva.example"]);
  expect(domainForms("example.com")).toEqual(["example.com"]);
});

test("local parts fold unless case-sensitive", () => {
  expect(normLocal("Alice", false)).toBe("alice");
  expect(normLocal("Alice", true)).toBe("Alice");
});

test("split at the last @", () => {
  expect(splitAddress('"a@b"@example.com')).toEqual({ local: '"a@b"', domain: "example.com" });
  expect(splitAddress("@example.com")).toBeNull();
  expect(splitAddress("user@")).toBeNull();
  expect(splitAddress("postmaster")).toBeNull();
});

test("sub-address tag at the first separator", () => {
  expect(splitTag("bob+lists+x", "+")).toEqual({ base: "bob", tag: "lists+x" });
  expect(splitTag("bob-news", "+-")).toEqual({ base: "bob", tag: "news" });
  expect(splitTag("bob+", "+")).toEqual({ base: "bob", tag: "" });
  expect(splitTag("+bob", "+")).toBeNull();
  expect(splitTag("bob+x", "")).toBeNull();
});

test("shapes", () => {
  expect(isValidDomain("example.com")).toBe(true);
  expect(isValidDomain("bücher.example")).toBe(true);
  expect(isValidDomain("localhost")).toBe(false);
  expect(isValidDomain("-bad.example")).toBe(false);
  expect(isValidLocal("a.b+c")).toBe(true);
  expect(isValidLocal("a b")).toBe(false);
  expect(isValidLocal("x".repeat(65))).toBe(false);
});
