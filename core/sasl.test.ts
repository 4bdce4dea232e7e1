import { describe, expect, test } from "bun:test";
import { decodePlain, decodeSaslBase64 } from "./sasl.ts";

const b64 = (s: string) => Buffer.from(s).toString("base64");

describe("SASL", () => {
  test("base64 responses: strict, '=' is empty", () => {
    expect(decodeSaslBase64("=")).toEqual(new Uint8Array(0));
    expect(Buffer.from(decodeSaslBase64(b64("hi"))!).toString()).toBe("hi");
    for (const bad of ["abc", "a b=", "!!!!", "YQ"]) expect(decodeSaslBase64(bad)).toBeNull();
  });

  test("PLAIN decodes authzid, user and password (UTF-8)", () => {
    expect(decodePlain(b64("\0alice@example.test\0pässword"))).toEqual({ ok: true, cred: { mechanism: "PLAIN", username: "alice@example.test", password: "pässword" } });
    expect(decodePlain(b64("admin\0alice\0pw"))).toEqual({ ok: true, cred: { mechanism: "PLAIN", authzid: "admin", username: "alice", password: "pw" } });
    // An authzid equal to the user is no proxy request.
    expect(decodePlain(b64("alice\0alice\0pw"))).toEqual({ ok: true, cred: { mechanism: "PLAIN", username: "alice", password: "pw" } });
  });

  test("PLAIN refuses malformed responses", () => {
    for (const s of ["", "=", "!!!!", "abc", b64("alice\0pw"), b64("\0\0pw"), b64("\0alice\0"), b64("a\0b\0c\0d"), Buffer.from([0, 0x61, 0, 0xff]).toString("base64")])
      expect(decodePlain(s).ok).toBe(false);
  });
});
