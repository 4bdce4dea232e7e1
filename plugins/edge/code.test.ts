import { expect, test } from "bun:test";
import { decodeCode, encodeCode, newSecret } from "./code.ts";
import { parseEdgeAddress } from "./home.ts";

test("a pairing code round-trips and refuses what is not one", () => {
  const c = { domain: "home.example.com", secret: newSecret(), fingerprint: "ab".repeat(32) };
  const code = encodeCode(c);
  expect(code).toMatch(/^kp1-[A-Za-z0-9_-]+$/);
  expect(decodeCode(code)).toEqual(c);
  expect(decodeCode(` ${code}\n`)).toEqual(c);
  expect(decodeCode(code.slice(0, 40))).toBeNull();
  expect(decodeCode("kp2-" + code.slice(4))).toBeNull();
  expect(decodeCode(code + "!")).toBeNull();
  expect(decodeCode("")).toBeNull();
});

test("edge join's address: port 366 unless given", () => {
  expect(parseEdgeAddress("vps.example.com")).toEqual({ host: "vps.example.com", port: 366 });
  expect(parseEdgeAddress("vps.example.com:2366")).toEqual({ host: "vps.example.com", port: 2366 });
  expect(parseEdgeAddress("[2001:db8::1]:366")).toEqual({ host: "2001:db8::1", port: 366 });
  expect(parseEdgeAddress("vps.example.com:0")).toBeNull();
  expect(parseEdgeAddress("vps example")).toBeNull();
});
