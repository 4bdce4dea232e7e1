import { describe, expect, test } from "bun:test";
import { decodeXtext, mailParams, normalizeDomain, parsePath, rcptParams, splitCommand } from "./command.ts";

describe("splitCommand", () => {
  test("verb upper-cased, args trimmed", () => {
    expect(splitCommand("mail FROM:<a@b>  ")).toEqual({ verb: "MAIL", args: "FROM:<a@b>" });
    expect(splitCommand("QUIT")).toEqual({ verb: "QUIT", args: "" });
  });
});

describe("parsePath", () => {
  const ok = (args: string, kw: "FROM" | "TO" = "FROM") => {
    const r = parsePath(args, kw);
    if (!r.ok) throw new Error(r.reply.text);
    return r;
  };
  test("plain address with params", () => {
    const r = ok("FROM:<Alice@Example.COM> SIZE=100 BODY=8BITMIME");
    expect(r.addr).toEqual({ address: "Alice@Example.COM", local: "Alice", domain: "example.com", params: { SIZE: "100", BODY: "8BITMIME" } });
  });
  test("the null reverse-path", () => {
    expect(ok("FROM:<>").addr.address).toBe("");
    expect(parsePath("TO:<>", "TO").ok).toBe(false);
  });
  test("space after the colon and missing brackets are tolerated", () => {
    expect(ok("FROM: <a@b.c>").addr.address).toBe("a@b.c");
    expect(ok("TO:a@b.c", "TO").addr.address).toBe("a@b.c");
  });
  test("quoted local parts may hold @, spaces and >", () => {
    const r = ok('TO:<"a b>@c"@d.e> NOTIFY=NEVER', "TO");
    expect(r.addr.local).toBe('"a b>@c"');
    expect(r.addr.domain).toBe("d.e");
    expect(r.addr.params).toEqual({ NOTIFY: "NEVER" });
  });
  test("source routes are dropped", () => {
    expect(ok("TO:<@relay.x,@other.y:user@d.e>", "TO").addr.address).toBe("user@d.e");
  });
  test("<Postmaster> without a domain is allowed for RCPT only", () => {
    expect(ok("TO:<Postmaster>", "TO").addr.domain).toBe("");
    expect(parsePath("FROM:<postmaster>", "FROM").ok).toBe(false);
  });
  test("UTF-8 addresses are flagged; IDN domains in U-label form", () => {
    const r = ok("TO:<jürgen@BÜCHER.example>", "TO");
    expect(r.utf8).toBe(true);
    expect(r.addr.domain).toBe("bücher.example");
    expect(ok("TO:<a@xn--bcher-kva.example>", "TO").addr.domain).toBe("bücher.example");
    expect(ok("TO:<a@b.c>", "TO").utf8).toBe(false);
  });
  test("address literals", () => {
    expect(ok("TO:<a@[192.0.2.1]>", "TO").addr.domain).toBe("[192.0.2.1]");
  });
  for (const bad of ["FROM <a@b>", "FROM:<a@b", "FROM:<a@>", "FROM:<@b>", "FROM:<a..b@c>", "FROM:<a@b..c>", "FROM:<a@-b.c>", "FROM:<a b@c>", "FROM:<a@b> =x", "FROM:<a@b>x"]) {
    test(`refuses ${JSON.stringify(bad)}`, () => {
      const r = parsePath(bad, "FROM");
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.reply.code).toBe(501);
    });
  }
  test("length limits (RFC 5321 §4.5.3.1)", () => {
    expect(parsePath(`FROM:<${"a".repeat(65)}@b.c>`, "FROM").ok).toBe(false);
    expect(parsePath(`FROM:<a@${"b".repeat(250)}.c>`, "FROM").ok).toBe(false);
    expect(parsePath(`FROM:<${"a".repeat(64)}@b.c>`, "FROM").ok).toBe(true);
  });
});

describe("normalizeDomain", () => {
  test("lower-case and labels checked", () => {
    expect(normalizeDomain("EXAMPLE.test")).toBe("example.test");
    expect(normalizeDomain("a_b.test")).toBeNull();
    expect(normalizeDomain(`${"x".repeat(64)}.test`)).toBeNull();
  });
});

describe("ESMTP parameters", () => {
  test("MAIL: SIZE, BODY, SMTPUTF8, RET, ENVID, AUTH", () => {
    const r = mailParams({ SIZE: "1000", BODY: "8bitmime", SMTPUTF8: true, RET: "hdrs", ENVID: "abc+2Bdef", AUTH: "<>" });
    expect(r).toEqual({ ok: true, value: { size: 1000, body: "8BITMIME", smtputf8: true, ret: "HDRS", envid: "abc+def" } });
  });
  test("MAIL: unknown and malformed parameters", () => {
    const unknown = mailParams({ FOO: "1" });
    expect(unknown.ok || unknown.reply.code).toBe(555);
    const body = mailParams({ BODY: "BINARYMIME" });
    expect(body.ok || body.reply.code).toBe(555);
    const size = mailParams({ SIZE: "x" });
    expect(size.ok || size.reply.code).toBe(501);
  });
  test("RCPT: NOTIFY and ORCPT", () => {
    expect(rcptParams({ NOTIFY: "success,failure", ORCPT: "rfc822;a+40b.c" })).toEqual({ ok: true, value: { notify: ["SUCCESS", "FAILURE"], orcpt: "rfc822;a@b.c" } });
    expect(rcptParams({ NOTIFY: "NEVER,SUCCESS" }).ok).toBe(false);
    expect(rcptParams({ ORCPT: "nosemicolon" }).ok).toBe(false);
  });
  test("xtext", () => {
    expect(decodeXtext("a+2Bb+3Dc")).toBe("a+b=c");
    expect(decodeXtext("a+zz")).toBeNull();
  });
});
