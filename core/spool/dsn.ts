// Delivery status notifications: RFC 3464 (multipart/report, RFC 6522) with a
// message/delivery-status part, sent from the null reverse-path (RFC 5321 §4.5.5).

export interface DsnRecipient {
  address: string;
  /** ORCPT as given ("rfc822;addr"), if any. */
  orcpt?: string;
  /** RFC 3464 §2.3.3; "relayed": delivered to a host without DSN support (RFC 3461 §5.2.2). */
  action: "failed" | "delayed" | "relayed";
  /** RFC 3463 status, e.g. "5.1.1". */
  status: string;
  /** The SMTP reply or error text. */
  diagnostic: string;
  remoteMta?: string;
  lastAttempt: number;
  /** delayed: when we will give up. */
  willRetryUntil?: number;
}

export interface DsnInput {
  reportingMta: string;
  /** Envelope sender of the original = To: of the report. */
  to: string;
  queueId: string;
  envid?: string;
  arrival: number;
  recipients: DsnRecipient[];
  /** The original message (prefix + body). */
  original: Uint8Array;
  /** RFC 3461 §4.3: HDRS = headers only; FULL = the whole message. */
  ret?: "FULL" | "HDRS";
}

/** Largest original returned whole when RET is not given. */
const FULL_LIMIT = 256 * 1024;

const date = (ms: number) => new Date(ms).toUTCString().replace("GMT", "+0000");

function headerEnd(b: Uint8Array): number {
  for (let i = 0; i + 3 < b.length; i++) if (b[i] === 13 && b[i + 1] === 10 && b[i + 2] === 13 && b[i + 3] === 10) return i + 2;
  for (let i = 0; i + 1 < b.length; i++) if (b[i] === 10 && b[i + 1] === 10) return i + 1;
  return b.length;
}

/** A header field value from the original's header block, unfolded. */
function headerValue(head: string, name: string): string | null {
  const m = new RegExp(`^${name}:[ \\t]*((?:.*)(?:\\r?\\n[ \\t].*)*)`, "im").exec(head);
  return m ? m[1]!.replace(/\r?\n[ \t]+/g, " ").trim() : null;
}

export function buildDsn(d: DsnInput): Uint8Array {
  const failed = d.recipients.some((r) => r.action === "failed");
  const relayed = !failed && d.recipients.every((r) => r.action === "relayed");
  const boundary = `=_kp_${crypto.randomUUID()}`;
  const he = headerEnd(d.original);
  const origHead = Buffer.from(d.original.subarray(0, he)).toString("utf8");
  const subjectOrig = headerValue(origHead, "subject");
  const full = d.ret === "FULL" || (d.ret === undefined && d.original.length <= FULL_LIMIT);
  const oneLine = (t: string) => t.replace(/[\r\n]+/g, " ");
  const list = d.recipients.map((r) => `  <${r.address}>: ${oneLine(r.diagnostic)}`).join("\r\n");
  const what = failed
    ? "Your message could not be delivered to one or more recipients.\r\nIt is attached below."
    : relayed
      ? "Your message was delivered to the next mail server, which does not\r\nreport delivery status; no further notification will come from it."
      : "Your message has not been delivered yet to the recipients below.\r\nDelivery will be retried; you do not need to send it again.";
  const human = `This is the mail system at ${d.reportingMta}.\r\n\r\n${what}\r\n\r\n${list}\r\n`;
  // RFC 3464 §2.2: per-message fields, then one block per recipient.
  const perMsg = [`Reporting-MTA: dns; ${d.reportingMta}`, `X-Kotakpos-Queue-ID: ${d.queueId}`];
  if (d.envid) perMsg.push(`Original-Envelope-Id: ${d.envid}`);
  perMsg.push(`Arrival-Date: ${date(d.arrival)}`);
  const perRcpt = d.recipients.map((r) => {
    const f = [`Final-Recipient: rfc822; ${r.address}`];
    if (r.orcpt) f.push(`Original-Recipient: ${r.orcpt.includes(";") ? r.orcpt.replace(";", "; ") : "rfc822; " + r.orcpt}`);
    f.push(`Action: ${r.action}`, `Status: ${r.status}`);
    if (r.remoteMta) f.push(`Remote-MTA: dns; ${r.remoteMta}`);
    f.push(`Diagnostic-Code: ${/^\d{3}[ -]/.test(r.diagnostic) ? "smtp" : "x-kotakpos"}; ${oneLine(r.diagnostic)}`);
    f.push(`Last-Attempt-Date: ${date(r.lastAttempt)}`);
    if (r.willRetryUntil) f.push(`Will-Retry-Until: ${date(r.willRetryUntil)}`);
    return f.join("\r\n");
  });
  const head = [
    `From: Mail Delivery System <MAILER-DAEMON@${d.reportingMta}>`,
    `To: <${d.to}>`,
    `Subject: ${failed ? "Undelivered Mail Returned to Sender" : relayed ? "Successful Mail Delivery Report" : "Delayed Mail (still being retried)"}${subjectOrig ? `: ${subjectOrig.slice(0, 200)}` : ""}`,
    `Date: ${date(Date.now())}`,
    `Message-ID: <${d.queueId}.${Date.now().toString(36)}.dsn@${d.reportingMta}>`,
    // RFC 3834 §5: no automatic reply to this one.
    `Auto-Submitted: auto-replied`,
    `MIME-Version: 1.0`,
    `Content-Type: multipart/report; report-type=delivery-status; boundary="${boundary}"`,
  ].join("\r\n");
  const parts = [
    `${head}\r\n\r\nThis is a MIME-encapsulated message.\r\n\r\n--${boundary}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n${human}\r\n--${boundary}\r\nContent-Type: message/delivery-status\r\n\r\n${perMsg.join("\r\n")}\r\n\r\n${perRcpt.join("\r\n\r\n")}\r\n\r\n--${boundary}\r\n`,
  ];
  const chunks: Uint8Array[] = [];
  if (full) {
    const body = d.original;
    const eightBit = body.some((b) => b > 0x7f);
    parts.push(`Content-Type: message/rfc822\r\nContent-Description: Undelivered Message\r\n${eightBit ? "Content-Transfer-Encoding: 8bit\r\n" : ""}\r\n`);
    chunks.push(Buffer.from(parts.join("")), body);
    const endsCrlf = body.length >= 2 && body[body.length - 2] === 13 && body[body.length - 1] === 10;
    chunks.push(Buffer.from(`${endsCrlf ? "" : "\r\n"}--${boundary}--\r\n`));
  } else {
    parts.push(`Content-Type: text/rfc822-headers\r\nContent-Description: Undelivered Message Headers\r\n\r\n`);
    chunks.push(Buffer.from(parts.join("")), d.original.subarray(0, he), Buffer.from(`${he === d.original.length ? "\r\n" : ""}--${boundary}--\r\n`));
  }
  return Buffer.concat(chunks);
}
