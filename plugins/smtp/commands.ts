// The SMTP session's own commands (RFC 5321 §4.1): EHLO/HELO, RSET, NOOP, QUIT, VRFY,
// EXPN, HELP, STARTTLS (RFC 3207) and AUTH (RFC 4954); the mail transaction's MAIL, RCPT,
// DATA and BDAT are in transaction.ts. The session (session.ts) feeds it command lines.
import type { Reply } from "../../core/types.ts";
import { splitCommand } from "./command.ts";
import { R, verdictOutcome } from "./reply.ts";
import type { AuthExchange } from "./sasl.ts";
import { data, mail, rcpt, rejected, type SessionCtx } from "./transaction.ts";
import { burl, BURL_KEYWORD } from "./burl.ts";

/** RFC 5321 §4.5.3.1.4: 512 octets for a command line; AUTH lines may be longer. */
const MAX_COMMAND = 510;
const MAIL_VERBS = new Set(["MAIL", "RCPT", "DATA", "BDAT", "BURL", "QUIT"]);
const HTTP_VERBS = new Set(["GET", "POST", "HEAD", "PUT", "CONNECT", "OPTIONS", "DELETE"]);

/** The session as its commands see it. */
export interface CommandCtx extends SessionCtx {
  readonly auth: AuthExchange;
  /** The connect hook rejected the session (554 greeting): only QUIT (RFC 5321 §3.1). */
  readonly rejected: boolean;
  /** Reply, flush and close. */
  closeWith(r: Reply): void;
  /** Write the replies gathered so far. */
  flush(): void;
  /** STARTTLS failed: the core has closed the connection. */
  tlsFailed(): void;
}

/** One command line (RFC 5321 §4.1). */
export async function command(c: CommandCtx, line: string, binary: boolean): Promise<void> {
  const { reply, send, closeWith } = c;
  if (binary) return reply(R.binary);
  const { verb, args } = splitCommand(line);
  if (c.rejected) return verb === "QUIT" ? closeWith(R.bye) : reply(R.rejectedSession);
  if (line.length > MAX_COMMAND && verb !== "AUTH") return reply(R.lineTooLong);
  if (!MAIL_VERBS.has(verb) && ++c.commandsWithoutMail > c.cfg.maxCommandsWithoutMail) {
    c.conn.log.info("too many commands without MAIL");
    return closeWith(R.tooManyCommands);
  }
  switch (verb) {
    case "EHLO":
      return hello(c, args, true);
    case "HELO":
      return hello(c, args, false);
    case "MAIL":
      return mail(c, args);
    case "RCPT":
      return rcpt(c, args);
    case "DATA":
      return data(c, args);
    case "BURL":
      return burl(c, args);
    case "RSET":
      if (args) return reply(R.noParams);
      c.txn = undefined;
      return send(R.ok);
    case "NOOP":
      return send(R.ok);
    case "QUIT":
      return closeWith(R.bye);
    case "VRFY":
      // RFC 5321 §3.5.3: 252 without disclosing whether the user exists.
      if (!args) return reply({ code: 501, enhanced: "5.5.4", text: "Syntax: VRFY <address>" });
      return send(R.vrfy);
    case "EXPN":
      return reply(R.expn);
    case "HELP":
      return send(R.help);
    case "STARTTLS":
      return startTls(c, args);
    case "AUTH":
      return authStart(c, args);
    default:
      // Cross-protocol requests (an HTTP client pointed here): close at once.
      if (HTTP_VERBS.has(verb) || /^[A-Za-z-]+:$/.test(verb)) return closeWith(R.http);
      return reply(R.unknown);
  }
}

async function hello(c: CommandCtx, args: string, extended: boolean): Promise<void> {
  const { reply, send, conn, cfg } = c;
  const name = args.split(/[ \t]/)[0] ?? "";
  if (name === "") return reply({ code: 501, enhanced: "5.5.4", text: `Syntax: ${extended ? "EHLO" : "HELO"} hostname` });
  const v = await c.deps.hooks.first("smtp.helo", conn, name);
  const o = verdictOutcome(v, R.ok);
  if (!o.ok) {
    rejected(c, "helo", o.reply, { helo: name });
    return c.respond(o);
  }
  // RFC 5321 §4.1.4: EHLO/HELO reset the transaction like RSET.
  c.txn = undefined;
  c.helo = name;
  c.esmtp = extended;
  const lines = [`${cfg.hostname} Hello ${name.replace(/[^\x21-\x7e]/g, "?")}`];
  if (extended) {
    lines.push("PIPELINING", `SIZE ${cfg.maxMessageSize}`, "8BITMIME", "SMTPUTF8", "ENHANCEDSTATUSCODES");
    if (!conn.secure) lines.push("STARTTLS");
    if (authOffered(c)) lines.push("AUTH PLAIN LOGIN", BURL_KEYWORD);
    lines.push("CHUNKING", "DSN");
  }
  send({ code: 250, text: lines.join("\n") }, false);
}

/** RFC 4954 §4 / DESIGN.md: passwords only over TLS (the core's loopback exception for tests). */
function authOffered(c: CommandCtx): boolean {
  return c.submission && c.conn.plaintextLoginAllowed;
}

// ---------- STARTTLS (RFC 3207) ----------

async function startTls(c: CommandCtx, args: string): Promise<void> {
  const { conn, reply } = c;
  if (conn.secure) return reply(R.tlsActive);
  if (args) return reply(R.noParams);
  c.send(R.tlsReady);
  c.flush();
  // RFC 3207 §4.2: forget everything learnt before TLS; pipelined input is discarded.
  c.reader.discard();
  c.txn = undefined;
  c.helo = "";
  c.esmtp = false;
  c.user = undefined;
  c.auth.cancel();
  try {
    await conn.upgradeTls();
  } catch {
    c.tlsFailed(); // the core closed the connection
  }
}

// ---------- AUTH (RFC 4954) ----------

async function authStart(c: CommandCtx, args: string): Promise<void> {
  const { reply } = c;
  if (!c.submission) return reply(R.authNotAvailable);
  if (!c.esmtp) return reply({ code: 503, enhanced: "5.5.1", text: "Send EHLO first" });
  if (c.user) return reply(R.alreadyAuthed);
  if (c.txn) return reply(R.authInTxn);
  if (!authOffered(c)) return reply(R.needTlsForAuth);
  c.user = await c.auth.start(args);
}
