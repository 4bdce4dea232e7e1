import { describe, expect, test } from "bun:test";
import { decodePlain } from "./sasl.ts";

const b64 = (s: string) => Buffer.from(s).toString("base64");

describe("SASL PLAIN", () => {
  test("decodes authzid, user and password", () => {
    expect(decodePlain(b64("\0alice@example.test\0pässword"))).toEqual({ ok: true, authzid: undefined, username: "alice@example.test", password: "pässword" });
    expect(decodePlain(b64("admin\0alice\0pw"))).toEqual({ ok: true, authzid: "admin", username: "alice", password: "pw" });
  });
  test("rejects malformed responses", () => {
    for (const s of ["", "!!!!", "abc", b64("alice\0pw"), b64("\0\0pw"), b64("\0alice\0"), b64("a\0b\0c\0d"), Buffer.from([0, 0x61, 0, 0xff]).toString("base64")])
      expect(decodePlain(s).ok).toBe(false);
  });
});
