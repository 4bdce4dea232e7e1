// The SMTP session: a state machine over the wire parser's events (RFC 5321 §4.1): the
// greeting, EHLO/HELO, STARTTLS, AUTH and the small commands; the mail transaction itself
// is in transaction.ts. Verdicts become replies in reply.ts. Replies to pipelined
// commands are buffered and flushed when the input runs dry (RFC 2920 §3.2).
import type { Spool } from "../../core/spool/types.ts";
import type { Store } from "../../core/store/types.ts";
import { SessionLoop } from "../../core/session.ts";
import type { Connection, Hooks, Reply } from "../../core/types.ts";
import { command, type CommandCtx } from "./commands.ts";
import type { HeaderLimits } from "./header-bounds.ts";
import { formatReply, R, verdictOutcome, type Outcome } from "./reply.ts";
import { createAuthExchange } from "./sasl.ts";
import { bdat, dataEnd, rejected } from "./transaction.ts";
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
}

export interface SessionDeps {
  hooks: Hooks;
  store: Pick<Store, "isLocalDomain" | "listDomains" | "onAccountGone">;
  spool: Pick<Spool, "accept">;
}

/** RFC 4954 §4: AUTH lines may be 12288 octets (commands.ts bounds the others to 512). */
const MAX_AUTH_LINE = 12288;
/** Pause reading when this much pipelined input waits behind a busy session. */
const HIGH_WATER = 256 * 1024;
const LOW_WATER = 64 * 1024;

export function startSession(conn: Connection, deps: SessionDeps, cfg: SessionConfig): void {
  const { hooks } = deps;
  const log = conn.log;
  const reader = createWireReader({ maxCommandLine: MAX_AUTH_LINE, maxDataLine: cfg.maxDataLine, maxMessageSize: cfg.maxMessageSize });
  const out: string[] = [];
  const submission = cfg.service !== "smtp";

  let closed = false;
  let rejectedSession = false; // 554 greeting: only QUIT (RFC 5321 §3.1)
  const auth = createAuthExchange({ conn, hooks, send, reply, closeWith, maxFailures: cfg.maxAuthFailures });
  const c: CommandCtx = {
    conn,
    deps,
    cfg,
    reader,
    submission,
    helo: "",
    esmtp: false,
    user: undefined,
    txn: undefined,
    commandsWithoutMail: 0,
    send,
    reply,
    respond,
    auth,
    get rejected() {
      return rejectedSession;
    },
    closeWith,
    flush,
    tlsFailed() {
      closed = true;
      loop.close();
    },
  };
  const loop = new SessionLoop<WireEvent>(
    conn,
    { push: (b) => reader.push(b), next: () => reader.read(), buffered: () => reader.buffered() },
    // RFC 5321 §4.5.3.2: one timeout (at least 5 minutes) whether logged in or not.
    { highWater: HIGH_WATER, lowWater: LOW_WATER, maxErrors: cfg.maxErrors, preAuthMs: cfg.idleMs, idleMs: cfg.idleMs },
    {
      handle,
      failed() {
        // An unknown error is temporary (DESIGN.md): 451, the transaction is dropped.
        c.txn = undefined;
        auth.cancel();
        send(R.tempFail);
      },
      timedOut(busy) {
        if (busy) return false;
        log.info("idle timeout");
        closeWith(R.idle);
        return true;
      },
      // A message still arriving (or being checked) is finished first, within the shutdown
      // grace period: the client gets its 250, then the 421.
      shutdown(busy) {
        if (busy || reader.inData() || c.txn?.bdat) return false;
        closeWith(R.shutdown);
        return true;
      },
      drained: flush,
      // Fairness (issue 11): a client streaming a huge message gives the event loop back
      // after each chunk, so new connections are accepted and greeted meanwhile.
      yieldWhile: () => reader.inData(),
    },
  );

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
    loop.close();
    conn.close();
  }
  /** Send a reply; 5xx replies count toward the error limit. */
  function reply(r: Reply): void {
    send(r);
    if (r.code >= 500 && loop.error()) {
      log.info("too many errors", { errors: cfg.maxErrors });
      closeWith(R.tooManyErrors);
    }
  }
  function respond(o: Outcome): void {
    if (o.close) closeWith(o.reply);
    else reply(o.reply);
  }

  // ---------- input ----------

  // An admin disabled or deleted the account this session authenticated as: 421 and
  // close (RFC 5321 §3.8), even mid-message; the client retries and is then refused.
  const offGone = submission
    ? deps.store.onAccountGone((ev) => {
        if (ev.accountId === c.user?.accountId) closeWith(R.accountGone);
      })
    : null;

  conn.onData((chunk) => loop.feed(chunk));
  conn.onClose(() => {
    offGone?.();
    closed = true;
    loop.close();
    c.txn = undefined;
    hooks.notify("disconnect", conn);
  });

  async function handle(ev: WireEvent): Promise<void> {
    switch (ev.type) {
      case "line":
        if (auth.active) {
          c.user = (await auth.step(ev.line)) ?? c.user;
          return;
        }
        return command(c, ev.line, ev.binary);
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
    loop.start();
  }

  void greet().catch((err: unknown) => {
    log.error("smtp greeting failed", { err: (err as Error)?.message ?? String(err) });
    closeWith(R.tempFail);
  });
}
