import { expect, test } from "bun:test";
import { allowMeaning, isPrivate, meaning, reverseName } from "./codes.ts";

test("RFC 5782 query names for IPv4, IPv4-mapped and IPv6", () => {
  expect(reverseName("192.0.2.99")).toBe("99.2.0.192");
  expect(reverseName("::ffff:192.0.2.99")).toBe("99.2.0.192");
  expect(reverseName("2001:db8::1:2")).toBe("2.0.0.0.1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2");
  expect(reverseName("::1")).toBe("1." + "0.".repeat(30) + "0");
  expect(reverseName("not-an-ip")).toBeNull();
  expect(reverseName("2001:db8:1")).toBeNull();
});

test("Spamhaus codes; 127.255.255.x is a refused query, not a listing", () => {
  expect(meaning("127.0.0.2")).toEqual({ kind: "listed", reason: "SBL: spam source" });
  expect(meaning("127.0.0.11").kind).toBe("listed");
  expect(meaning("127.0.1.4")).toEqual({ kind: "listed", reason: "phishing domain" });
  expect(meaning("127.255.255.254").kind).toBe("error");
  expect(meaning("127.255.255.254").reason).toContain("public or open resolver");
  expect(meaning("10.0.0.1").kind).toBe("error");
  expect(allowMeaning("127.0.15.2")).toEqual({ allowed: true, reason: "trust level 2" });
  expect(allowMeaning("127.0.0.255").allowed).toBe(false);
});

test("private addresses", () => {
  expect(isPrivate("127.0.0.1")).toBe(true);
  expect(isPrivate("::ffff:10.1.2.3")).toBe(true);
  expect(isPrivate("172.20.0.1")).toBe(true);
  expect(isPrivate("172.32.0.1")).toBe(false);
  expect(isPrivate("fd00::1")).toBe(true);
  expect(isPrivate("2001:db8::1")).toBe(false);
});
