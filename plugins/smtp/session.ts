// The SMTP session: a state machine over the wire parser's events (RFC 5321 §4.1,
// §3.3 mail transactions). Each stage asks the hook pipeline; verdicts become replies in
// reply.ts. Replies to pipelined commands are buffered and flushed when the input runs
// dry (RFC 2920 §3.2).
import type { Spool } from "../../core/spool/types.ts";
import type { Store } from "../../core/store/types.ts";
import type { Address, AuthUser, Connection, Hooks, IncomingMessage, Reply, Route, SmtpTxn, TxnState } from "../../core/types.ts";
import { mailParams, parsePath, rcptParams, splitCommand, type MailParams } from "./command.ts";
import { buildDeliveries, dropRanges, mergeChecks, type AcceptedRcpt } from "./deliver.ts";
import { dateHeader, messageIdHeader, parseHeaders, receivedHeader, withProtocol } from "./headers.ts";
import { formatReply, R, verdictOutcome, type Outcome } from "./reply.ts";
import { createAuthExchange } from "./sasl.ts";
import { createWireReader, type DataError, type WireEvent } from "./wire.ts";

export type SmtpService = "smtp" | "submission" | "submissions";

export interface SessionConfig {
  service: SmtpService;
  hostname: string;
  maxMessageSize: number;
  maxRecipients: number;
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

type Txn = { -readonly [K in keyof SmtpTxn]: SmtpTxn[K] } & {
  params: MailParams;
  accepted: AcceptedRcpt[];
  /** BDAT chunks received so far (RFC 3030). */
  bdat?: { parts: Buffer[]; size: number };
};

/** RFC 5321 §4.5.3.1.4: 512 octets for a command line; AUTH lines may be longer. */
const MAX_COMMAND = 510;
const MAX_AUTH_LINE = 12288;
/** Pause reading when this much pipelined input waits behind a busy session. */
const HIGH_WATER = 256 * 1024;
const LOW_WATER = 64 * 1024;

const MAIL_VERBS = new Set(["MAIL", "RCPT", "DATA", "BDAT", "QUIT"]);
const HTTP_VERBS = new Set(["GET", "POST", "HEAD", "PUT", "CONNECT", "OPTIONS", "DELETE"]);

let txnSeq = 0;
function newTxnId(): string {
  const rnd = Buffer.from(crypto.getRandomValues(new Uint8Array(4))).toString("hex");
  return `${Date.now().toString(36)}${(++txnSeq).toString(36)}${rnd}`;
}

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
  let helo = "";
  let esmtp = false;
  let user: AuthUser | undefined;
  let txn: Txn | undefined;
  let errors = 0;
  let commandsWithoutMail = 0;
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

  conn.onData((chunk) => {
    if (closed) return;
    reader.push(chunk);
    if (busy && !paused && reader.buffered() > HIGH_WATER) {
      paused = true;
      conn.pause();
    }
    void pump();
  });
  conn.onClose(() => {
    closed = true;
    txn = undefined;
    hooks.notify("disconnect", conn);
  });
  conn.setIdleTimeout(cfg.idleMs, () => {
    log.info("idle timeout");
    closeWith(R.idle);
  });
  const onShutdown = () => {
    if (busy) shutdownAsked = true;
    else closeWith(R.shutdown);
  };
  if (conn.closing.aborted) queueMicrotask(onShutdown);
  else conn.closing.addEventListener("abort", onShutdown, { once: true });

  async function pump(): Promise<void> {
    if (busy || closed || !ready) return;
    busy = true;
    try {
      while (!closed) {
        if (shutdownAsked) {
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
          txn = undefined;
          auth.cancel();
          send(R.tempFail);
        }
      }
    } finally {
      busy = false;
      flush();
      if (paused && !closed && reader.buffered() < LOW_WATER) {
        paused = false;
        conn.resume();
      }
    }
  }

  async function handle(ev: WireEvent): Promise<void> {
    switch (ev.type) {
      case "line":
        if (auth.active) {
          user = (await auth.step(ev.line)) ?? user;
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
        return dataEnd(ev.data, ev.error);
      case "bare-eol":
        log.warn("bare LF/CR in DATA refused", { ip: conn.remoteAddress });
        txn = undefined;
        return closeWith(R.bareEol);
      case "chunk":
        return bdat(ev.data, ev.size, ev.last, ev.error);
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
    if (!MAIL_VERBS.has(verb) && ++commandsWithoutMail > cfg.maxCommandsWithoutMail) {
      log.info("too many commands without MAIL");
      return closeWith(R.tooManyCommands);
    }
    switch (verb) {
      case "EHLO":
        return hello(args, true);
      case "HELO":
        return hello(args, false);
      case "MAIL":
        return mail(args);
      case "RCPT":
        return rcpt(args);
      case "DATA":
        return data(args);
      case "RSET":
        if (args) return reply(R.noParams);
        txn = undefined;
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
    if (!o.ok) return respond(o);
    // RFC 5321 §4.1.4: EHLO/HELO reset the transaction like RSET.
    txn = undefined;
    helo = name;
    esmtp = extended;
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

  async function mail(args: string): Promise<void> {
    if (!helo) return reply(R.needHelo);
    if (txn) return reply(R.nestedMail);
    if (submission && !user) return reply(R.needAuth);
    const p = parsePath(args, "FROM");
    if (!p.ok) return reply(p.reply);
    if (!esmtp && Object.keys(p.addr.params).length > 0) return reply(R.noEsmtp);
    const mp = mailParams(p.addr.params);
    if (!mp.ok) return reply(mp.reply);
    // RFC 1870 §6: a declared size over the limit is refused at MAIL.
    if (mp.value.size !== undefined && mp.value.size > cfg.maxMessageSize) return reply(R.tooBig);
    // RFC 6531 §3.4: non-ASCII addresses only with the SMTPUTF8 parameter.
    if (p.utf8 && !mp.value.smtputf8) return reply(R.utf8Needed);
    const t: Txn = { id: newTxnId(), conn, helo, user, mailFrom: p.addr, rcpts: [], state: {} as TxnState, params: mp.value, accepted: [] };
    if (user) {
      // Submission: the sender must be the user's own address or one granted to them.
      // Domain in its normalized (lower-case U-label) form, so "xn--" spellings match too.
      const from = p.addr.address === "" ? "" : `${p.addr.local}@${p.addr.domain}`;
      const s = await hooks.first("smtp.sendas", user, from);
      if (s.kind === "pass") return reply(R.notOwner);
      const so = verdictOutcome(s, R.senderOk);
      if (!so.ok) return respond(so);
    }
    const o = verdictOutcome(await hooks.first("smtp.mail", t, p.addr), R.senderOk);
    if (o.ok) {
      txn = t;
      commandsWithoutMail = 0;
      reader.resetMessage();
    }
    respond(o);
  }

  async function rcpt(args: string): Promise<void> {
    const t = txn;
    if (!t) return reply(R.needMail);
    if (t.bdat) return reply({ code: 503, enhanced: "5.5.1", text: "BDAT in progress: RCPT not allowed" });
    const p = parsePath(args, "TO");
    if (!p.ok) return reply(p.reply);
    if (!esmtp && Object.keys(p.addr.params).length > 0) return reply(R.noEsmtp);
    const rp = rcptParams(p.addr.params);
    if (!rp.ok) return reply(rp.reply);
    if (p.utf8 && !t.params.smtputf8) return reply(R.utf8Needed);
    // RFC 5321 §4.5.3.1.8: 452 for too many recipients (the client sends the rest later).
    if (t.rcpts.length >= cfg.maxRecipients) return send(R.tooManyRcpts);
    let addr: Address = p.addr;
    if (addr.domain === "") {
      // "<Postmaster>" (RFC 5321 §4.1.1.3): the postmaster of our first domain.
      const d = (await deps.store.listDomains())[0]?.name ?? cfg.hostname;
      addr = { ...addr, address: `postmaster@${d}`, domain: d };
    }
    const local = await deps.store.isLocalDomain(addr.domain);
    // No open relay (DESIGN.md): remote recipients only for authenticated sessions.
    if (!local && !user) {
      log.info("relay denied", { rcpt: addr.address, ip: conn.remoteAddress });
      return reply(R.relayDenied);
    }
    const r = await hooks.first("route", t, addr);
    let route: Route;
    if ("local" in r) route = r;
    else if (r.kind === "reject" || r.kind === "defer") return respond(verdictOutcome(r.reply.code < 500 ? { kind: "defer", reply: r.reply } : { kind: "reject", reply: r.reply }, R.rcptOk));
    else if (local) return reply(R.noSuchUser);
    else route = { local: [], remote: [{ address: addr.address }] };
    if (route.local.length === 0 && route.remote.length === 0) return reply(R.noSuchUser);
    const o = verdictOutcome(await hooks.first("smtp.rcpt", t, addr, route), R.rcptOk);
    if (o.ok) {
      t.rcpts.push(addr);
      t.accepted.push({ route, dsn: rp.value });
    }
    respond(o);
  }

  function data(args: string): void {
    const t = txn;
    if (!t) return reply(R.needMail);
    if (t.bdat) return reply(R.bdatInProgress);
    if (t.rcpts.length === 0) return reply(R.needRcpt);
    if (args) return reply(R.noParams);
    send({ code: 354, text: "End data with <CR><LF>.<CR><LF>" }, false);
    reader.startData();
  }

  function dataErrorReply(e: DataError): Reply {
    return e === "too-big" ? R.tooBig : e === "line-too-long" ? R.dataLineTooLong : { code: 554, enhanced: "5.6.0", text: "Bare LF or CR in message data is not allowed (RFC 5321 section 2.3.8)" };
  }

  async function dataEnd(raw: Buffer | null, error: DataError | undefined): Promise<void> {
    const t = txn;
    txn = undefined;
    if (!t) return reply(R.needMail);
    if (error || !raw) return reply(dataErrorReply(error ?? "too-big"));
    return finish(t, raw);
  }

  /** RFC 3030 §2: every chunk is read whatever the reply; a failed chunk ends the
   *  transaction. */
  async function bdat(chunk: Buffer | null, size: number, last: boolean, error: DataError | undefined): Promise<void> {
    const t = txn;
    if (!t) return reply(R.needMail);
    if (t.rcpts.length === 0) {
      txn = undefined;
      return reply(R.needRcpt);
    }
    const b = (t.bdat ??= { parts: [], size: 0 });
    b.size += size;
    if (error || !chunk || b.size > cfg.maxMessageSize) {
      txn = undefined;
      return reply(dataErrorReply(error ?? "too-big"));
    }
    if (chunk.length > 0) b.parts.push(chunk);
    reader.setBudget(cfg.maxMessageSize - b.size);
    if (!last) return send({ code: 250, enhanced: "2.0.0", text: `${size} octets received` });
    txn = undefined;
    return finish(t, b.parts.length === 1 ? b.parts[0]! : Buffer.concat(b.parts, b.size));
  }

  /** The message is complete: checks, our headers, then the durable commit — "250" only
   *  after spool.accept resolved (DESIGN.md "The durability contract"). */
  async function finish(t: Txn, raw: Buffer): Promise<void> {
    const headers = parseHeaders(raw);
    const prefix = [
      receivedHeader({
        helo: t.helo,
        remoteAddress: conn.remoteAddress,
        hostname: cfg.hostname,
        protocol: withProtocol({ esmtp, tls: conn.secure, auth: !!t.user, utf8: t.params.smtputf8 }),
        id: t.id,
        tls: conn.tls,
        for: t.rcpts.length === 1 && (t.params.smtputf8 || !/[^\x00-\x7f]/.test(t.rcpts[0]!.address)) ? t.rcpts[0]!.address : undefined,
      }),
    ];
    // RFC 6409 §8.3 / §8.4: a submission server may add a missing Message-ID and Date.
    if (submission && t.user) {
      if (!headers.some((h) => h.name === "message-id")) prefix.push(messageIdHeader(cfg.hostname));
      if (!headers.some((h) => h.name === "date")) prefix.push(dateHeader());
    }
    const msg: IncomingMessage = { raw, prefix, headers };
    const merged = mergeChecks(await hooks.parallel("smtp.data", t, msg));
    const o = verdictOutcome(merged.verdict, R.ok);
    if (!o.ok) {
      log.info("message refused by checks", { txn: t.id, code: o.reply.code });
      return respond(o);
    }
    const { local, remote } = buildDeliveries(t.accepted, merged.verdict.kind === "quarantine");
    let id: string;
    try {
      ({ id } = await deps.spool.accept({
        // Forged header fields the checks asked to drop (mailauth helper: DataCheck.removeHeaders).
        raw: dropRanges(raw, merged.remove),
        // Authentication-Results and other check headers sit above our Received (RFC 8601 §5).
        prefix: [...merged.headers, ...msg.prefix],
        mailFrom: t.mailFrom.address,
        local,
        remote,
        ...((t.params.ret || t.params.envid) && { dsn: { ...(t.params.ret && { ret: t.params.ret }), ...(t.params.envid && { envid: t.params.envid }) } }),
      }));
    } catch (err) {
      log.error("spool accept failed", { txn: t.id, err: (err as Error)?.message ?? String(err) });
      return send(R.tempFail);
    }
    log.info("message accepted", { txn: t.id, id, from: t.mailFrom.address, rcpts: t.rcpts.length, size: raw.length, quarantine: merged.verdict.kind === "quarantine" || undefined });
    send({ code: 250, enhanced: "2.0.0", text: `OK queued as ${id}` });
  }

  // ---------- STARTTLS (RFC 3207) ----------

  async function startTls(args: string): Promise<void> {
    if (conn.secure) return reply(R.tlsActive);
    if (args) return reply(R.noParams);
    send(R.tlsReady);
    flush();
    // RFC 3207 §4.2: forget everything learnt before TLS; pipelined input is discarded.
    reader.discard();
    txn = undefined;
    helo = "";
    esmtp = false;
    user = undefined;
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
    if (!esmtp) return reply({ code: 503, enhanced: "5.5.1", text: "Send EHLO first" });
    if (user) return reply(R.alreadyAuthed);
    if (txn) return reply(R.authInTxn);
    if (!authOffered()) return reply(R.needTlsForAuth);
    user = await auth.start(args);
  }

  void greet().catch((err: unknown) => {
    log.error("smtp greeting failed", { err: (err as Error)?.message ?? String(err) });
    closeWith(R.tempFail);
  });
}
