import { describe, expect, test } from "bun:test";
import { formatReply, verdictOutcome } from "./reply.ts";
import { mergeChecks, buildDeliveries, dropRanges } from "./deliver.ts";
import { parseHeaders, receivedHeader, withProtocol, addressLiteral } from "./headers.ts";

const OK = { code: 250, enhanced: "2.1.0", text: "Sender OK" };

describe("formatReply", () => {
  test("single and multi-line, enhanced codes", () => {
    expect(formatReply({ code: 550, enhanced: "5.1.1", text: "No such user" })).toBe("550 5.1.1 No such user\r\n");
    expect(formatReply({ code: 250, text: "a\nb\nc" }, false)).toBe("250-a\r\n250-b\r\n250 c\r\n");
  });
  test("missing or mismatched enhanced codes follow the basic code's class", () => {
    expect(formatReply({ code: 451, text: "later" })).toBe("451 4.0.0 later\r\n");
    expect(formatReply({ code: 550, enhanced: "4.7.1", text: "no" })).toBe("550 5.7.1 no\r\n");
  });
  test("control characters cannot inject reply lines", () => {
    expect(formatReply({ code: 550, enhanced: "5.0.0", text: "a\r250 fake" })).toBe("550-5.0.0 a\r\n550 5.0.0 250 fake\r\n");
    expect(formatReply({ code: 550, enhanced: "5.0.0", text: "a\x00b" })).toBe("550 5.0.0 a b\r\n");
  });
});

describe("verdictOutcome", () => {
  test("pass and accept give the ok reply", () => {
    expect(verdictOutcome({ kind: "pass" }, OK)).toEqual({ reply: OK, ok: true, close: false });
    expect(verdictOutcome({ kind: "accept" }, OK).ok).toBe(true);
  });
  test("reject is 5xx, defer 4xx, disconnect closes", () => {
    expect(verdictOutcome({ kind: "reject", reply: { code: 450, text: "x" } }, OK).reply.code).toBe(550);
    expect(verdictOutcome({ kind: "defer", reply: { code: 550, text: "x" } }, OK).reply.code).toBe(451);
    expect(verdictOutcome({ kind: "disconnect", reply: { code: 200, text: "x" } }, OK)).toMatchObject({ ok: false, close: true, reply: { code: 421 } });
    expect(verdictOutcome({ kind: "reject", reply: { code: 421, enhanced: "4.7.0", text: "limit" } }, OK)).toMatchObject({ close: true, reply: { code: 421 } });
  });
});

describe("mergeChecks", () => {
  test("reject beats defer beats quarantine; headers collected and sanitized", () => {
    const m = mergeChecks([
      { kind: "check", verdict: { kind: "quarantine", reason: "spam" }, headers: ["X-Spam: yes"] },
      { kind: "check", verdict: { kind: "defer", reply: { code: 451, text: "dns" } }, headers: ["Authentication-Results: x;\n spf=pass\r\n"] },
      { kind: "check", verdict: { kind: "pass" }, headers: ["bad header\r\n\r\nbody"] },
    ]);
    expect(m.verdict.kind).toBe("defer");
    expect(m.headers).toEqual(["X-Spam: yes\r\n", "Authentication-Results: x;\r\n spf=pass\r\n"]);
    expect(
      mergeChecks([
        { kind: "check", verdict: { kind: "reject", reply: { code: 550, text: "no" } } },
        { kind: "check", verdict: { kind: "defer", reply: { code: 451, text: "x" } } },
      ]).verdict.kind,
    ).toBe("reject");
    expect(mergeChecks([]).verdict.kind).toBe("pass");
  });
});

describe("buildDeliveries", () => {
  const rc = (local: { accountId: number; mailbox: string }[], remote: { address: string }[], notify?: string[]) => ({
    route: { kind: "route" as const, local, remote },
    dsn: notify ? { notify } : {},
  });
  test("local targets deduplicated, DSN per remote recipient", () => {
    const d = buildDeliveries(
      [
        rc([{ accountId: 1, mailbox: "INBOX" }], []),
        rc([{ accountId: 1, mailbox: "inbox" }], [{ address: "x@r.test" }], ["FAILURE"]),
        rc([{ accountId: 2, mailbox: "INBOX" }], [{ address: "X@r.test" }]),
      ],
      false,
    );
    expect(d.local).toEqual([
      { accountId: 1, mailbox: "INBOX" },
      { accountId: 2, mailbox: "INBOX" },
    ]);
    expect(d.remote).toEqual([{ address: "x@r.test", dsn: { notify: ["FAILURE"] } }]);
  });
  test("quarantine sends local copies to Junk", () => {
    expect(buildDeliveries([rc([{ accountId: 1, mailbox: "INBOX" }], [])], true).local).toEqual([{ accountId: 1, mailbox: "Junk", flags: ["$Junk"] }]);
  });
  test("a per-account junk verdict moves only that account's copy, with $Junk", () => {
    const d = buildDeliveries(
      [
        rc(
          [
            { accountId: 1, mailbox: "INBOX" },
            { accountId: 2, mailbox: "INBOX" },
          ],
          [],
        ),
      ],
      false,
      new Set([2]),
    );
    expect(d.local).toEqual([
      { accountId: 1, mailbox: "INBOX" },
      { accountId: 2, mailbox: "Junk", flags: ["$Junk"] },
    ]);
    expect(
      mergeChecks([
        { kind: "check", verdict: { kind: "pass" }, junk: [3] },
        { kind: "check", verdict: { kind: "pass" }, junk: [4, 3] },
      ]).junk,
    ).toEqual(new Set([3, 4]));
  });
});

describe("headers", () => {
  test("with-protocol names (RFC 3848, RFC 6531)", () => {
    expect(withProtocol({ esmtp: true, tls: true, auth: true, utf8: false })).toBe("ESMTPSA");
    expect(withProtocol({ esmtp: true, tls: false, auth: false, utf8: true })).toBe("UTF8SMTP");
    expect(withProtocol({ esmtp: false, tls: true, auth: false, utf8: false })).toBe("SMTP");
  });
  test("Received carries TLS details and one recipient", () => {
    const h = receivedHeader({
      helo: "client (evil)",
      remoteAddress: "::ffff:192.0.2.7",
      hostname: "mx.example.test",
      protocol: "ESMTPS",
      id: "t1",
      tls: { protocol: "TLSv1.3", cipher: "TLS_AES_256_GCM_SHA384" },
      for: "a@example.test",
      date: new Date(Date.UTC(2026, 10, 22, 2, 3, 4)),
    });
    expect(h).toBe(
      "Received: from client??evil? ([192.0.2.7])\r\n\tby mx.example.test (kotakpos) with ESMTPS id t1\r\n\t(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384)\r\n\tfor <a@example.test>;\r\n\tSun, 22 Nov 2026 02:03:04 +0000\r\n",
    );
    expect(addressLiteral("2001:db8::1")).toBe("[IPv6:2001:db8::1]");
  });
  test("parseHeaders unfolds and stops at the body", () => {
    const raw = Buffer.from("Subject: a\r\n b\r\nFrom: x@y\r\n\r\nNot: a header\r\n");
    expect(parseHeaders(raw)).toEqual([
      { name: "subject", value: "a b" },
      { name: "from", value: "x@y" },
    ]);
    expect(parseHeaders(Buffer.from("just a body line\r\n"))).toEqual([]);
  });
});

describe("dropRanges (DataCheck.removeHeaders)", () => {
  const raw = Buffer.from("A: 1\r\nAuthentication-Results: mx; spf=pass\r\nB: 2\r\n\r\nbody A: 1\r\n");
  const field = { start: 6, end: 6 + "Authentication-Results: mx; spf=pass\r\n".length };
  test("removes whole header fields, merged", () => {
    expect(dropRanges(raw, [field, field]).toString()).toBe("A: 1\r\nB: 2\r\n\r\nbody A: 1\r\n");
  });
  test("ignores ranges in the body or off line boundaries", () => {
    const inBody = raw.indexOf("body");
    expect(dropRanges(raw, [{ start: inBody, end: raw.length }])).toBe(raw);
    expect(dropRanges(raw, [{ start: 7, end: field.end }])).toBe(raw);
    expect(
      dropRanges(raw, [
        { start: -5, end: 2 },
        { start: 3, end: 1 },
      ]),
    ).toBe(raw);
  });
});
