// Replies: formatting (RFC 5321 §4.2, multi-line with "-"), enhanced status codes
// (RFC 2034 / RFC 3463), and the one function that maps hook verdicts to replies.
import type { DataResult, Reply, Verdict } from "../../core/types.ts";

/** Format a reply; `enhanced` false for the greeting and EHLO lines (RFC 2034 §3 does not
 *  put codes there). Text lines are split on newlines; control characters become spaces
 *  and non-ASCII "?" (RFC 5321 §4.2: reply text is ASCII). */
export function formatReply(r: Reply, enhanced = true): string {
  const code = String(r.code);
  const esc = enhanced ? `${enhancedFor(r)} ` : "";
  const lines = r.text.split(/\r?\n|\r/).map((l) => l.replace(/[\x00-\x1f\x7f]/g, " ").replace(/[^\x00-\x7f]/g, "?"));
  let out = "";
  for (let i = 0; i < lines.length; i++) out += `${code}${i < lines.length - 1 ? "-" : " "}${esc}${lines[i]}\r\n`;
  return out;
}

/** The enhanced code whose class matches the basic code's class (RFC 3463 §2). */
export function enhancedFor(r: Reply): string {
  const cls = String(r.code)[0];
  if (r.enhanced && /^[245]\.\d{1,3}\.\d{1,3}$/.test(r.enhanced)) return r.enhanced[0] === cls ? r.enhanced : `${cls}${r.enhanced.slice(1)}`;
  return `${cls === "2" || cls === "4" || cls === "5" ? cls : "2"}.0.0`;
}

export interface Outcome {
  reply: Reply;
  /** Accepted (pass or accept): the stage goes on. */
  ok: boolean;
  /** Close the connection after the reply. */
  close: boolean;
}

/** The one mapping from a hook verdict to an SMTP reply. `pass` and `accept` both give
 *  `okReply`; a reject is always 5xx, a defer 4xx (handler codes of the wrong class are
 *  corrected), a disconnect closes after its reply (421 when none fits). */
export function verdictOutcome(v: Verdict | DataResult, okReply: Reply): Outcome {
  switch (v.kind) {
    case "pass":
    case "accept":
      return { reply: okReply, ok: true, close: false };
    case "quarantine":
      return { reply: okReply, ok: true, close: false };
    case "reject":
      return { reply: inClass(v.reply, 5, 550), ok: false, close: v.reply.code === 421 };
    case "defer":
      return { reply: inClass(v.reply, 4, 451), ok: false, close: v.reply.code === 421 };
    case "disconnect":
      return { reply: v.reply.code >= 400 && v.reply.code < 600 ? v.reply : { ...v.reply, code: 421 }, ok: false, close: true };
  }
}

function inClass(r: Reply, cls: 4 | 5, fallback: number): Reply {
  // A 421 from a handler (e.g. the auth limiter) is kept: it means "closing".
  if (r.code === 421 || Math.floor(r.code / 100) === cls) return r;
  return { ...r, code: fallback };
}

export const R = {
  ok: { code: 250, enhanced: "2.0.0", text: "OK" },
  senderOk: { code: 250, enhanced: "2.1.0", text: "Sender OK" },
  rcptOk: { code: 250, enhanced: "2.1.5", text: "Recipient OK" },
  bye: { code: 221, enhanced: "2.0.0", text: "Bye" },
  vrfy: { code: 252, enhanced: "2.5.0", text: "Cannot VRFY user, but will accept the message and attempt delivery" },
  expn: { code: 502, enhanced: "5.5.1", text: "EXPN not available" },
  help: { code: 214, enhanced: "2.0.0", text: "Commands: EHLO HELO MAIL RCPT DATA BDAT RSET NOOP QUIT VRFY HELP STARTTLS AUTH" },
  unknown: { code: 500, enhanced: "5.5.2", text: "Command not recognized" },
  binary: { code: 500, enhanced: "5.5.2", text: "Syntax error: command contains invalid characters" },
  lineTooLong: { code: 500, enhanced: "5.5.2", text: "Line too long (RFC 5321 section 4.5.3.1)" },
  needHelo: { code: 503, enhanced: "5.5.1", text: "Send EHLO or HELO first" },
  nestedMail: { code: 503, enhanced: "5.5.1", text: "Nested MAIL command" },
  needMail: { code: 503, enhanced: "5.5.1", text: "Need MAIL command first" },
  needRcpt: { code: 554, enhanced: "5.5.1", text: "No valid recipients" },
  bdatInProgress: { code: 503, enhanced: "5.5.1", text: "BDAT in progress: DATA not allowed" },
  noParams: { code: 501, enhanced: "5.5.4", text: "No parameters allowed" },
  needAuth: { code: 530, enhanced: "5.7.0", text: "Authentication required" },
  needTlsForAuth: { code: 538, enhanced: "5.7.11", text: "Encryption required for requested authentication mechanism" },
  authNotAvailable: { code: 502, enhanced: "5.5.1", text: "AUTH not available on this port" },
  alreadyAuthed: { code: 503, enhanced: "5.5.1", text: "Already authenticated" },
  authInTxn: { code: 503, enhanced: "5.5.1", text: "AUTH not allowed during a mail transaction" },
  authOk: { code: 235, enhanced: "2.7.0", text: "Authentication successful" },
  authFailed: { code: 535, enhanced: "5.7.8", text: "Authentication credentials invalid" },
  authCancelled: { code: 501, enhanced: "5.7.0", text: "Authentication cancelled" },
  authBadBase64: { code: 501, enhanced: "5.5.2", text: "Invalid base64 data" },
  authMech: { code: 504, enhanced: "5.5.4", text: "Unrecognized authentication mechanism" },
  authTooMany: { code: 421, enhanced: "4.7.0", text: "Too many authentication failures, closing" },
  tlsReady: { code: 220, enhanced: "2.0.0", text: "Ready to start TLS" },
  tlsActive: { code: 503, enhanced: "5.5.1", text: "TLS already active" },
  tlsUnavailable: { code: 502, enhanced: "5.5.1", text: "STARTTLS not available" },
  tooBig: { code: 552, enhanced: "5.3.4", text: "Message size exceeds fixed maximum message size" },
  dataLineTooLong: { code: 500, enhanced: "5.5.2", text: "Line too long in message data (RFC 5321 section 4.5.3.1.6)" },
  bareEol: { code: 554, enhanced: "5.5.2", text: "Bare LF or CR in message data is not allowed (RFC 5321 section 2.3.8); closing" },
  tooManyRcpts: { code: 452, enhanced: "4.5.3", text: "Too many recipients" },
  relayDenied: { code: 554, enhanced: "5.7.1", text: "Relay access denied" },
  noSuchUser: { code: 550, enhanced: "5.1.1", text: "No such user here" },
  notOwner: { code: 550, enhanced: "5.7.1", text: "Sender address not owned by the authenticated user" },
  utf8Needed: { code: 553, enhanced: "5.6.7", text: "Non-ASCII address requires SMTPUTF8" },
  noEsmtp: { code: 555, enhanced: "5.5.4", text: "Parameters require EHLO" },
  tempFail: { code: 451, enhanced: "4.3.0", text: "Temporary failure, please try again later" },
  tooManyErrors: { code: 421, enhanced: "4.7.0", text: "Too many errors, closing connection" },
  tooManyCommands: { code: 421, enhanced: "4.7.0", text: "Too many commands without a message, closing connection" },
  idle: { code: 421, enhanced: "4.4.2", text: "Idle timeout, closing connection" },
  shutdown: { code: 421, enhanced: "4.3.2", text: "Server shutting down, closing connection" },
  accountGone: { code: 421, enhanced: "4.7.0", text: "Account disabled, closing connection" },
  http: { code: 554, enhanced: "5.7.0", text: "This is an SMTP server, not an HTTP server; closing" },
  rejectedSession: { code: 503, enhanced: "5.5.1", text: "Session rejected; only QUIT is allowed" },
} satisfies Record<string, Reply>;
