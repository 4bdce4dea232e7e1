import { describe, expect, test } from "bun:test";
import { authorsOf, headerValues } from "./authors.ts";

const m = (head: string) => Buffer.from(`${head}Subject: x\r\n\r\nbody\r\n`);

describe("authorsOf", () => {
  test("one From (display name, comment, IDN): its address, domain in U-label form", () => {
    expect(authorsOf(m("From: CEO <carol@other.test>\r\n"))).toEqual({ ok: true, from: ["carol@other.test"], sender: [], missingFrom: false });
    expect(authorsOf(m("From: (x) alice@Local.TEST (y)\r\n"))).toMatchObject({ ok: true, from: ["alice@local.test"] });
    expect(authorsOf(m("From: a@xn--bcher-kva.test\r\n"))).toMatchObject({ ok: true, from: ["a@bücher.test"] });
    expect(authorsOf(m('From: "bob@local.test" <alice@local.test>\r\n'))).toMatchObject({ ok: true, from: ["alice@local.test"] });
  });
  test("folded From and Sender", () => {
    expect(authorsOf(m("From: Alice\r\n <alice@local.test>\r\nSender: <sec@local.test>\r\n"))).toEqual({ ok: true, from: ["alice@local.test"], sender: ["sec@local.test"], missingFrom: false });
  });
  test("no From: missingFrom", () => {
    expect(authorsOf(m("To: x@y.test\r\n"))).toEqual({ ok: true, from: [], sender: [], missingFrom: true });
  });
  test("two From fields, even after a line that is not a field: refused", () => {
    expect(authorsOf(m("From: a@local.test\r\nFrom: b@local.test\r\n"))).toMatchObject({ ok: false, reply: { code: 550, enhanced: "5.6.0" } });
    expect(authorsOf(m("From: a@local.test\r\nnot a field\r\nfrom : b@evil.test\r\n"))).toMatchObject({ ok: false, reply: { code: 550 } });
  });
  test("a From list yields every address; a group or no address is refused", () => {
    expect(authorsOf(m("From: a@local.test, Mallory <m@gmail.example>\r\n"))).toMatchObject({ ok: true, from: ["a@local.test", "m@gmail.example"] });
    expect(authorsOf(m("From: Undisclosed:;\r\n"))).toMatchObject({ ok: false, reply: { code: 550 } });
    expect(authorsOf(m("From: Alice\r\n"))).toMatchObject({ ok: false, reply: { code: 550 } });
    expect(authorsOf(m("From: alice@local.test.\r\n"))).toMatchObject({ ok: false, reply: { code: 550 } });
  });
  test("an address outside the parsed mailbox is ambiguous: refused naming it", () => {
    const r = authorsOf(m("From: Alice <alice@local.test> bob@evil.test\r\n"));
    expect(r).toMatchObject({ ok: false, reply: { code: 550, enhanced: "5.7.1" } });
    expect(!r.ok && r.reply.text).toContain("bob@evil.test");
  });
  test("two Sender fields or a Sender list: refused", () => {
    expect(authorsOf(m("From: a@l.test\r\nSender: a@l.test\r\nSender: b@l.test\r\n")).ok).toBe(false);
    expect(authorsOf(m("From: a@l.test\r\nSender: a@l.test, b@l.test\r\n")).ok).toBe(false);
  });
  test("the body is never read", () => {
    expect(headerValues(Buffer.from("Subject: x\r\n\r\nFrom: b@evil.test\r\n"), ["from"]).get("from")).toEqual([]);
  });
});
