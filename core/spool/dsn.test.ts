import { expect, test } from "bun:test";
import PostalMime from "postal-mime";
import { buildDsn } from "./dsn.ts";

const original = Buffer.from("Received: from x\r\nFrom: alice@a.test\r\nTo: bob@b.test\r\nSubject: Hello\r\nMessage-ID: <m1@a.test>\r\n\r\nbody line\r\n");
const rcpt = { address: "bob@b.test", action: "failed" as const, status: "5.1.1", diagnostic: "550 5.1.1 no such user", remoteMta: "mx.b.test", lastAttempt: Date.now() };

test("a failure DSN is multipart/report with a delivery-status part (RFC 3464)", async () => {
  const raw = buildDsn({ reportingMta: "mx.a.test", to: "alice@a.test", queueId: "q1", arrival: Date.now(), recipients: [rcpt], original });
  const text = Buffer.from(raw).toString();
  expect(text).toMatch(/^From: Mail Delivery System <MAILER-DAEMON@mx\.a\.test>\r\n/);
  expect(text).toContain("Content-Type: multipart/report; report-type=delivery-status;");
  expect(text).toContain("Auto-Submitted: auto-replied");
  const parsed = await PostalMime.parse(raw);
  expect(parsed.subject).toBe("Undelivered Mail Returned to Sender: Hello");
  const status = parsed.attachments.find((a) => a.mimeType === "message/delivery-status");
  expect(status).toBeDefined();
  const ds = typeof status!.content === "string" ? status!.content : new TextDecoder().decode(status!.content);
  expect(ds).toContain("Reporting-MTA: dns; mx.a.test");
  expect(ds).toContain("Final-Recipient: rfc822; bob@b.test");
  expect(ds).toContain("Action: failed");
  expect(ds).toContain("Status: 5.1.1");
  expect(ds).toContain("Remote-MTA: dns; mx.b.test");
  expect(ds).toContain("Diagnostic-Code: smtp; 550 5.1.1 no such user");
  // RET absent and small: the whole original comes back.
  expect(text).toContain("Content-Type: message/rfc822");
  expect(text).toContain("body line");
});

test("RET=HDRS returns only the headers; a delay warning says delayed", () => {
  const raw = buildDsn({
    reportingMta: "mx.a.test",
    to: "alice@a.test",
    queueId: "q2",
    arrival: Date.now(),
    recipients: [{ ...rcpt, action: "delayed", status: "4.4.1", diagnostic: "connection refused", willRetryUntil: Date.now() + 1000 }],
    original,
    ret: "HDRS",
    envid: "E1",
  });
  const text = Buffer.from(raw).toString();
  expect(text).toContain("Content-Type: text/rfc822-headers");
  expect(text).toContain("Subject: Hello");
  expect(text).not.toContain("body line");
  expect(text).toContain("Action: delayed");
  expect(text).toContain("Will-Retry-Until:");
  expect(text).toContain("Original-Envelope-Id: E1");
  expect(text).toContain("Diagnostic-Code: x-kotakpos; connection refused");
  expect(text).toContain("Subject: Delayed Mail");
});
