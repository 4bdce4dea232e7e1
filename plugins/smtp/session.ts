// The SMTP session: a state machine over the wire parser's events (RFC 5321 §4.1): the
// greeting, EHLO/HELO, STARTTLS, AUTH and the small commands; the mail transaction itself
// is in transaction.ts. Verdicts become replies in reply.ts. Replies to pipelined
// commands are buffered and flushed when the input runs dry (RFC 2920 §3.2).
import type { Spool } from "../../core/spool/types.ts";
import type { Store } from "../../core/store/types.ts";
import type { Connection, Hooks, Reply } from "../../core/types.ts";
import { splitCommand } from "./command.ts";
import type { HeaderLimits } from "./header-bounds.ts";
import { formatReply, R, verdictOutcome, type Outcome } from "./reply.ts";
import { createAuthExchange } from "./sasl.ts";
import { bdat, data, dataEnd, mail, rcpt, rejected, type SessionCtx } from "./transaction.ts";
import { createWireReader, type WireEvent } from "./wire.ts";

export type SmtpService = "smtp" | "submission" | "submissions";

export interface SessionConfig {
  service: SmtpService;
  hostname: string;
  maxMessageSize: number;
  maxRecipients: number;
  /** Header section bounds, checked before the smtp.data hooks (header-bounds.ts). */
  headerLimits: HeaderLimits;
  /** Error replies before 421 and close. */
  maxErrors: number;
  /** Commands other than MAIL/RCPT/DATA/BDAT/QUIT since the last MAIL before 421. */
  maxCommandsWithoutMail: number;
  /** Failed AUTH attempts per connection before 421. */
  maxAuthFailures: number;
  /** Longest line in message data, octets with CRLF. */
  maxDataLine: number;
  /** RFC 5321 §4.5.3.2: at least 5 minutes. */
  idleMs: number;
  allowPlaintextAuthOnLoopback: boolean;
}

export interface SessionDeps {
  hooks: Hooks;
  store: Pick<Store, "isLocalDomain" | "listDomains">;
  spool: Pick<Spool, "accept">;
}

/** RFC 5321 §4.5.3.1.4: 512 octets for a command line; AUTH lines may be longer. */
const MAX_COMMAND = 510;
const MAX_AUTH_LINE = 12288;
/** Pause reading when this much pipelined input waits behind a busy session. */
const HIGH_WATER = 256 * 1024;
const LOW_WATER = 64 * 1024;

const MAIL_VERBS = new Set(["MAIL", "RCPT", "DATA", "BDAT", "QUIT"]);
const HTTP_VERBS = new Set(["GET", "POST", "HEAD", "PUT", "CONNECT", "OPTIONS", "DELETE"]);

export function startSession(conn: Connection, deps: SessionDeps, cfg: SessionConfig): void {
  const { hooks } = deps;
  const log = conn.log;
  const reader = createWireReader({ maxCommandLine: MAX_AUTH_LINE, maxDataLine: cfg.maxDataLine, maxMessageSize: cfg.maxMessageSize });
  const out: string[] = [];
  const submission = cfg.service !== "smtp";

  let ready = false; // greeting sent
  let busy = false;
  let closed = false;
  let paused = false;
  let shutdownAsked = false;
  let rejectedSession = false; // 554 greeting: only QUIT (RFC 5321 §3.1)
  let errors = 0;
  const c: SessionCtx = { conn, deps, cfg, reader, submission, helo: "", esmtp: false, user: undefined, txn: undefined, commandsWithoutMail: 0, send, reply, respond };
  const auth = createAuthExchange({ conn, hooks, send, reply, closeWith, maxFailures: cfg.maxAuthFailures });

  // ---------- output ----------

  function send(r: Reply, enhanced = true): void {
    out.push(formatReply(r, enhanced));
  }
  function flush(): void {
    if (out.length === 0 || closed) return;
    conn.write(out.length === 1 ? out[0]! : out.join(""));
    out.length = 0;
  }
  function closeWith(r: Reply): void {
    if (closed) return;
    send(r);
    flush();
    closed = true;
    conn.close();
  }
  /** Send a reply; 5xx replies count toward the error limit. */
  function reply(r: Reply): void {
    send(r);
    if (r.code >= 500 && ++errors >= cfg.maxErrors) {
      log.info("too many errors", { errors });
      closeWith(R.tooManyErrors);
    }
  }
  function respond(o: Outcome): void {
    if (o.close) closeWith(o.reply);
    else reply(o.reply);
  }

  // ---------- input ----------

  let yielding = false;
  conn.onData((chunk) => {
    if (closed) return;
    reader.push(chunk);
    if (busy && !paused && reader.buffered() > HIGH_WATER) {
      paused = true;
      conn.pause();
    }
    void pump();
    // Fairness (issue 11): a client streaming a huge message gives the event loop back
    // after each chunk, so new connections are accepted and greeted meanwhile.
    if (reader.inData() && !yielding && !paused && !closed) {
      yielding = true;
      conn.pause();
      setImmediate(() => {
        yielding = false;
        if (!paused && !closed) conn.resume();
      });
    }
  });
  conn.onClose(() => {
    closed = true;
    c.txn = undefined;
    hooks.notify("disconnect", conn);
  });
  // RFC 5321 §4.5.3.2: the timeouts are for waiting on the client, not on us.
  const onIdle = () => {
    if (busy) return conn.setIdleTimeout(cfg.idleMs, onIdle);
    log.info("idle timeout");
    closeWith(R.idle);
  };
  conn.setIdleTimeout(cfg.idleMs, onIdle);
  // A message still arriving (or being checked) is finished first, within the shutdown
  // grace period: the client gets its 250, then the 421.
  const onShutdown = () => {
    if (busy || reader.inData() || c.txn?.bdat) shutdownAsked = true;
    else closeWith(R.shutdown);
  };
  if (conn.closing.aborted) queueMicrotask(onShutdown);
  else conn.closing.addEventListener("abort", onShutdown, { once: true });

  async function pump(): Promise<void> {
    if (busy || closed || !ready) return;
    busy = true;
    try {
      while (!closed) {
        if (shutdownAsked && !reader.inData() && !c.txn?.bdat) {
          closeWith(R.shutdown);
          break;
        }
        const ev = reader.read();
        if (!ev) break;
        try {
          await handle(ev);
        } catch (err) {
          // An unknown error is temporary (DESIGN.md): 451, the transaction is dropped.
          log.error("smtp command failed", { err: (err as Error)?.message ?? String(err) });
          c.txn = undefined;
          auth.cancel();
          send(R.tempFail);
        }
      }
    } finally {
      busy = false;
      flush();
      if (paused && !closed && reader.buffered() < LOW_WATER) {
        paused = false;
        if (!yielding) conn.resume();
      }
    }
  }

  async function handle(ev: WireEvent): Promise<void> {
    switch (ev.type) {
      case "line":
        if (auth.active) {
          c.user = (await auth.step(ev.line)) ?? c.user;
          return;
        }
        return command(ev.line, ev.binary);
      case "line-too-long":
        if (auth.active) {
          auth.cancel();
          return reply({ code: 500, enhanced: "5.5.6", text: "Authentication exchange line is too long" }); // RFC 4954 §4
        }
        return reply(R.lineTooLong);
      case "message":
        return dataEnd(c, ev.data, ev.error);
      case "bare-eol":
        log.warn("bare LF/CR in DATA refused", { ip: conn.remoteAddress });
        c.txn = undefined;
        return closeWith(R.bareEol);
      case "chunk":
        return bdat(c, ev.data, ev.size, ev.last, ev.error);
      case "bdat-syntax":
        // The chunk size is unknown, so the byte stream cannot be followed: close.
        return closeWith({ code: 501, enhanced: "5.5.4", text: "Syntax: BDAT <size> [LAST]; closing" });
    }
  }

  // ---------- greeting ----------

  async function greet(): Promise<void> {
    const v = await hooks.first("connect", conn);
    if (closed) return;
    const greeting: Reply = { code: 220, text: `${cfg.hostname} ESMTP kotakpos` };
    const o = verdictOutcome(v, greeting);
    if (!o.ok) rejected(c, "connect", o.reply);
    if (o.ok) send(greeting, false);
    else if (v.kind === "reject") {
      // RFC 5321 §3.1: 554 instead of 220, then wait for QUIT answering 503.
      rejectedSession = true;
      send({ ...o.reply, code: 554 });
    } else return closeWith(o.reply.code === 421 ? o.reply : { ...o.reply, code: 421 });
    flush();
    ready = true;
    void pump();
  }

  // ---------- commands ----------

  async function command(line: string, binary: boolean): Promise<void> {
    if (binary) return reply(R.binary);
    const { verb, args } = splitCommand(line);
    if (rejectedSession) return verb === "QUIT" ? closeWith(R.bye) : reply(R.rejectedSession);
    if (line.length > MAX_COMMAND && verb !== "AUTH") return reply(R.lineTooLong);
    if (!MAIL_VERBS.has(verb) && ++c.commandsWithoutMail > cfg.maxCommandsWithoutMail) {
      log.info("too many commands without MAIL");
      return closeWith(R.tooManyCommands);
    }
    switch (verb) {
      case "EHLO":
        return hello(args, true);
      case "HELO":
        return hello(args, false);
      case "MAIL":
        return mail(c, args);
      case "RCPT":
        return rcpt(c, args);
      case "DATA":
        return data(c, args);
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
        return startTls(args);
      case "AUTH":
        return authStart(args);
      default:
        // Cross-protocol requests (an HTTP client pointed here): close at once.
        if (HTTP_VERBS.has(verb) || /^[A-Za-z-]+:$/.test(verb)) return closeWith(R.http);
        return reply(R.unknown);
    }
  }

  async function hello(args: string, extended: boolean): Promise<void> {
    const name = args.split(/[ \t]/)[0] ?? "";
    if (name === "") return reply({ code: 501, enhanced: "5.5.4", text: `Syntax: ${extended ? "EHLO" : "HELO"} hostname` });
    const v = await hooks.first("smtp.helo", conn, name);
    const o = verdictOutcome(v, R.ok);
    if (!o.ok) {
      rejected(c, "helo", o.reply, { helo: name });
      return respond(o);
    }
    // RFC 5321 §4.1.4: EHLO/HELO reset the transaction like RSET.
    c.txn = undefined;
    c.helo = name;
    c.esmtp = extended;
    const lines = [`${cfg.hostname} Hello ${name.replace(/[^\x21-\x7e]/g, "?")}`];
    if (extended) {
      lines.push("PIPELINING", `SIZE ${cfg.maxMessageSize}`, "8BITMIME", "SMTPUTF8", "ENHANCEDSTATUSCODES");
      if (!conn.secure) lines.push("STARTTLS");
      if (authOffered()) lines.push("AUTH PLAIN LOGIN");
      lines.push("CHUNKING", "DSN");
    }
    send({ code: 250, text: lines.join("\n") }, false);
  }

  /** RFC 4954 §4 / DESIGN.md: passwords only over TLS (loopback exception for tests). */
  function authOffered(): boolean {
    return submission && (conn.secure || (conn.isLoopback && cfg.allowPlaintextAuthOnLoopback));
  }

  // ---------- STARTTLS (RFC 3207) ----------

  async function startTls(args: string): Promise<void> {
    if (conn.secure) return reply(R.tlsActive);
    if (args) return reply(R.noParams);
    send(R.tlsReady);
    flush();
    // RFC 3207 §4.2: forget everything learnt before TLS; pipelined input is discarded.
    reader.discard();
    c.txn = undefined;
    c.helo = "";
    c.esmtp = false;
    c.user = undefined;
    auth.cancel();
    try {
      await conn.upgradeTls();
    } catch {
      closed = true; // the core closed the connection
    }
  }

  // ---------- AUTH (RFC 4954) ----------

  async function authStart(args: string): Promise<void> {
    if (!submission) return reply(R.authNotAvailable);
    if (!c.esmtp) return reply({ code: 503, enhanced: "5.5.1", text: "Send EHLO first" });
    if (c.user) return reply(R.alreadyAuthed);
    if (c.txn) return reply(R.authInTxn);
    if (!authOffered()) return reply(R.needTlsForAuth);
    c.user = await auth.start(args);
  }

  void greet().catch((err: unknown) => {
    log.error("smtp greeting failed", { err: (err as Error)?.message ?? String(err) });
    closeWith(R.tempFail);
  });
}
