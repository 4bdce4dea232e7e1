// The mail transaction (RFC 5321 §3.3): MAIL, RCPT, DATA / BDAT (RFC 3030) and the
// durable commit. Each stage asks the hook pipeline; the session (session.ts) owns the
// connection and hands these functions its state.
import type { AuthUser, Address, Connection, IncomingMessage, Reply, Route, SmtpRejection, SmtpTxn, TxnState } from "../../core/types.ts";
import { mailParams, parsePath, rcptParams, type MailParams } from "./command.ts";
import { buildDeliveries, dropRanges, mergeChecks, type AcceptedRcpt } from "./deliver.ts";
import { isDiskFull } from "../../core/disk.ts";
import { parseStructure } from "../../core/mime/index.ts";
import type { MimePart } from "../../core/mime/types.ts";
import { authorsOf } from "./authors.ts";
import { checkHeaderBounds } from "./header-bounds.ts";
import { dateHeader, messageIdHeader, parseHeaders, receivedHeader, returnPathHeader, withProtocol } from "./headers.ts";
import { R, verdictOutcome, type Outcome } from "./reply.ts";
import type { SessionConfig, SessionDeps } from "./session.ts";
import type { DataError, WireReader } from "./wire.ts";

export type Txn = { -readonly [K in keyof SmtpTxn]: SmtpTxn[K] } & {
  params: MailParams;
  accepted: AcceptedRcpt[];
  /** BDAT chunks received so far (RFC 3030). */
  bdat?: { parts: Buffer[]; size: number };
};

/** What the transaction steps see of the session. */
export interface SessionCtx {
  readonly conn: Connection;
  readonly deps: SessionDeps;
  readonly cfg: SessionConfig;
  readonly reader: WireReader;
  readonly submission: boolean;
  helo: string;
  esmtp: boolean;
  user: AuthUser | undefined;
  txn: Txn | undefined;
  commandsWithoutMail: number;
  /** Reply without counting an error. */
  send(r: Reply, enhanced?: boolean): void;
  /** Reply; 5xx count toward the error limit. */
  reply(r: Reply): void;
  /** A verdict's outcome: reply, and close when it says so. */
  respond(o: Outcome): void;
}

/** Tell the plugins that a check refused the client (the `smtp.rejected` hook). */
export function rejected(c: SessionCtx, stage: SmtpRejection["stage"], reply: Reply, more: { mailFrom?: string; rcpt?: string; helo?: string } = {}): void {
  c.deps.hooks.notify("smtp.rejected", {
    stage,
    ip: c.conn.remoteAddress,
    helo: more.helo ?? (c.helo || undefined),
    mailFrom: more.mailFrom ?? c.txn?.mailFrom.address,
    rcpt: more.rcpt,
    submission: c.submission,
    reply,
  });
}

let txnSeq = 0;
function newTxnId(): string {
  const rnd = Buffer.from(crypto.getRandomValues(new Uint8Array(4))).toString("hex");
  return `${Date.now().toString(36)}${(++txnSeq).toString(36)}${rnd}`;
}

export async function mail(c: SessionCtx, args: string): Promise<void> {
  if (!c.helo) return c.reply(R.needHelo);
  if (c.txn) return c.reply(R.nestedMail);
  if (c.submission && !c.user) return c.reply(R.needAuth);
  const p = parsePath(args, "FROM");
  if (!p.ok) return c.reply(p.reply);
  if (!c.esmtp && Object.keys(p.addr.params).length > 0) return c.reply(R.noEsmtp);
  const mp = mailParams(p.addr.params);
  if (!mp.ok) return c.reply(mp.reply);
  // RFC 1870 §6: a declared size over the limit is refused at MAIL.
  if (mp.value.size !== undefined && mp.value.size > c.cfg.maxMessageSize) return c.reply(R.tooBig);
  // RFC 6531 §3.4: non-ASCII addresses only with the SMTPUTF8 parameter.
  if (p.utf8 && !mp.value.smtputf8) return c.reply(R.utf8Needed);
  const t: Txn = { id: newTxnId(), conn: c.conn, helo: c.helo, user: c.user, mailFrom: p.addr, rcpts: [], state: {} as TxnState, params: mp.value, accepted: [] };
  if (c.user) {
    // Submission: the sender must be the user's own address or one granted to them.
    // Domain in its normalized (lower-case U-label) form, so "xn--" spellings match too.
    const from = p.addr.address === "" ? "" : `${p.addr.local}@${p.addr.domain}`;
    const s = await c.deps.hooks.first("smtp.sendas", c.user, from);
    if (s.kind === "pass") return c.reply(R.notOwner);
    const so = verdictOutcome(s, R.senderOk);
    if (!so.ok) {
      rejected(c, "mail", so.reply, { mailFrom: p.addr.address });
      return c.respond(so);
    }
  }
  const o = verdictOutcome(await c.deps.hooks.first("smtp.mail", t, p.addr), R.senderOk);
  if (o.ok) {
    c.txn = t;
    c.commandsWithoutMail = 0;
    c.reader.resetMessage();
  } else rejected(c, "mail", o.reply, { mailFrom: p.addr.address });
  c.respond(o);
}

export async function rcpt(c: SessionCtx, args: string): Promise<void> {
  const t = c.txn;
  if (!t) return c.reply(R.needMail);
  if (t.bdat) return c.reply({ code: 503, enhanced: "5.5.1", text: "BDAT in progress: RCPT not allowed" });
  const p = parsePath(args, "TO");
  if (!p.ok) return c.reply(p.reply);
  if (!c.esmtp && Object.keys(p.addr.params).length > 0) return c.reply(R.noEsmtp);
  const rp = rcptParams(p.addr.params);
  if (!rp.ok) return c.reply(rp.reply);
  if (p.utf8 && !t.params.smtputf8) return c.reply(R.utf8Needed);
  // RFC 5321 §4.5.3.1.10: 452 for too many recipients (the client sends the rest later).
  if (t.rcpts.length >= c.cfg.maxRecipients) return c.send(R.tooManyRcpts);
  let addr: Address = p.addr;
  if (addr.domain === "") {
    // "<Postmaster>" (RFC 5321 §4.1.1.3): the postmaster of our first domain.
    const d = (await c.deps.store.listDomains())[0]?.name ?? c.cfg.hostname;
    addr = { ...addr, address: `postmaster@${d}`, domain: d };
  }
  const local = await c.deps.store.isLocalDomain(addr.domain);
  const r = await c.deps.hooks.first("route", t, addr);
  // No open relay (DESIGN.md): remote recipients only for authenticated sessions, or in a
  // domain a route says we are the MX of (Route.relay: an edge's paired home domain); a
  // route's own refusal (an unknown user there) is answered as it is.
  if (!local && !c.user && !(r.kind === "route" && r.relay) && r.kind !== "reject" && r.kind !== "defer") {
    c.conn.log.info("relay denied", { rcpt: addr.address, ip: c.conn.remoteAddress });
    rejected(c, "rcpt", R.relayDenied, { rcpt: addr.address });
    return c.reply(R.relayDenied);
  }
  let route: Route;
  if (r.kind === "route") route = r;
  else if (r.kind === "reject" || r.kind === "defer") {
    const ro = verdictOutcome(r.reply.code < 500 ? { kind: "defer", reply: r.reply } : { kind: "reject", reply: r.reply }, R.rcptOk);
    rejected(c, "rcpt", ro.reply, { rcpt: addr.address });
    return c.respond(ro);
  } else if (local) route = { kind: "route", local: [], remote: [] };
  else route = { kind: "route", local: [], remote: [{ address: addr.address }] };
  if (route.local.length === 0 && route.remote.length === 0) {
    rejected(c, "rcpt", R.noSuchUser, { rcpt: addr.address });
    return c.reply(R.noSuchUser);
  }
  const o = verdictOutcome(await c.deps.hooks.first("smtp.rcpt", t, addr, route), R.rcptOk);
  if (o.ok) {
    t.rcpts.push(addr);
    t.accepted.push({ route, dsn: rp.value });
  } else rejected(c, "rcpt", o.reply, { rcpt: addr.address });
  c.respond(o);
}

export function data(c: SessionCtx, args: string): void {
  const t = c.txn;
  if (!t) return c.reply(R.needMail);
  if (t.bdat) return c.reply(R.bdatInProgress);
  if (t.rcpts.length === 0) return c.reply(R.needRcpt);
  if (args) return c.reply(R.noParams);
  c.send({ code: 354, text: "End data with <CR><LF>.<CR><LF>" }, false);
  c.reader.startData();
}

function dataErrorReply(e: DataError): Reply {
  return e === "too-big" ? R.tooBig : e === "line-too-long" ? R.dataLineTooLong : { code: 554, enhanced: "5.6.0", text: "Bare LF or CR in message data is not allowed (RFC 5321 section 2.3.8)" };
}

export async function dataEnd(c: SessionCtx, raw: Buffer | null, error: DataError | undefined): Promise<void> {
  const t = c.txn;
  c.txn = undefined;
  if (!t) return c.reply(R.needMail);
  if (error || !raw) return c.reply(dataErrorReply(error ?? "too-big"));
  return finish(c, t, raw);
}

/** RFC 3030 §2: every chunk is read whatever the reply; a failed chunk ends the
 *  transaction. */
export async function bdat(c: SessionCtx, chunk: Buffer | null, size: number, last: boolean, error: DataError | undefined): Promise<void> {
  const t = c.txn;
  if (!t) return c.reply(R.needMail);
  if (t.rcpts.length === 0) {
    c.txn = undefined;
    return c.reply(R.needRcpt);
  }
  const b = (t.bdat ??= { parts: [], size: 0 });
  b.size += size;
  if (error || !chunk || b.size > c.cfg.maxMessageSize) {
    c.txn = undefined;
    return c.reply(dataErrorReply(error ?? "too-big"));
  }
  if (chunk.length > 0) b.parts.push(chunk);
  c.reader.setBudget(c.cfg.maxMessageSize - b.size);
  if (!last) return c.send({ code: 250, enhanced: "2.0.0", text: `${size} octets received` });
  c.txn = undefined;
  return finish(c, t, b.parts.length === 1 ? b.parts[0]! : Buffer.concat(b.parts, b.size));
}

/** The message is complete: checks, our headers, then the durable commit — "250" only
 *  after spool.accept resolved (DESIGN.md "The durability contract"). */
async function finish(c: SessionCtx, t: Txn, raw: Buffer): Promise<void> {
  // An empty message ("BDAT 0 LAST" alone, or DATA then "."): nothing to deliver.
  if (raw.length === 0) return c.reply({ code: 554, enhanced: "5.6.0", text: "Empty message refused (no header, no body)" });
  // RFC 5322 §3.5 (text excludes %d0) and no BINARYMIME offered: NUL never belongs in a
  // message, and IMAP could not send it in a literal (RFC 9051 §4.3).
  if (raw.indexOf(0) >= 0) return c.reply({ code: 554, enhanced: "5.6.0", text: "NUL bytes are not allowed in message data (RFC 5322 section 3.5)" });
  const bounds = checkHeaderBounds(raw, c.cfg.headerLimits);
  if (bounds) {
    c.conn.log.info("message refused: header bounds", { txn: t.id, ip: c.conn.remoteAddress, size: raw.length, code: bounds.code });
    return c.reply(bounds);
  }
  const headers = parseHeaders(raw);
  const prefix = [
    receivedHeader({
      helo: t.helo,
      remoteAddress: c.conn.remoteAddress,
      hostname: c.cfg.hostname,
      protocol: withProtocol({ esmtp: c.esmtp, tls: c.conn.secure, auth: !!t.user, utf8: t.params.smtputf8 }),
      id: t.id,
      tls: c.conn.tls,
      for: t.rcpts.length === 1 && (t.params.smtputf8 || !/[^\x00-\x7f]/.test(t.rcpts[0]!.address)) ? t.rcpts[0]!.address : undefined,
    }),
  ];
  // RFC 6409 §8.3 / §8.4: a submission server may add a missing Message-ID and Date.
  if (c.submission && t.user) {
    // The author addresses must be the user's, like MAIL FROM (we DKIM-sign their domain).
    const authors = authorsOf(raw);
    if (!authors.ok) {
      c.conn.log.info("submission refused: author fields", { txn: t.id, user: t.user.address, reason: authors.reply.text });
      return c.reply(authors.reply);
    }
    for (const [field, address] of [...authors.from.map((a) => ["From", a] as const), ...authors.sender.map((a) => ["Sender", a] as const)]) {
      const s = await c.deps.hooks.first("smtp.sendas", t.user, address);
      if (s.kind === "accept") continue;
      c.conn.log.info("submission refused: not allowed to send as", { txn: t.id, user: t.user.address, field, address });
      if (s.kind === "pass") return c.reply({ code: 550, enhanced: "5.7.1", text: `${field}: ${address} is not an address you may send as` });
      const o = verdictOutcome(s, R.ok);
      if (!o.ok) {
        rejected(c, "data", o.reply);
        return c.respond(o);
      }
    }
    // RFC 6409 §8.1: a missing From is added, from the authenticated identity.
    if (authors.missingFrom) prefix.push(`From: <${t.user.address}>\r\n`);
    if (!headers.some((h) => h.name === "message-id")) prefix.push(messageIdHeader(c.cfg.hostname));
    if (!headers.some((h) => h.name === "date")) prefix.push(dateHeader());
  }
  let structure: MimePart | undefined; // parsed once, by the first check that asks (or the store)
  const msg: IncomingMessage = { raw, prefix, headers, structure: () => (structure ??= parseStructure(raw)) };
  const merged = mergeChecks(await c.deps.hooks.parallel("smtp.data", t, msg));
  const o = verdictOutcome(merged.verdict, R.ok);
  if (!o.ok) {
    c.conn.log.info("message refused by checks", { txn: t.id, code: o.reply.code });
    rejected(c, "data", o.reply);
    return c.respond(o);
  }
  const { local, remote } = buildDeliveries(t.accepted, merged.verdict.kind === "quarantine", merged.junk, merged.accountHeaders);
  let id: string;
  try {
    // Forged header fields the checks asked to drop (mailauth helper: DataCheck.removeHeaders).
    const stored = dropRanges(raw, merged.remove);
    ({ id } = await c.deps.spool.accept({
      raw: stored,
      ...(stored === raw && structure && { structure }),
      // Return-Path at final delivery (RFC 5321 §4.4) — only when every copy stays here, as
      // one prefix serves all recipients and a relay must not add it. Then the checks'
      // Authentication-Results above our Received (RFC 8601 §5).
      prefix: [...(remote.length === 0 ? [returnPathHeader(t.mailFrom.address)] : []), ...merged.headers, ...msg.prefix],
      mailFrom: t.mailFrom.address,
      local,
      remote,
      ...((t.params.ret || t.params.envid) && { dsn: { ...(t.params.ret && { ret: t.params.ret }), ...(t.params.envid && { envid: t.params.envid }) } }),
    }));
  } catch (err) {
    c.conn.log.error("spool accept failed", { txn: t.id, err: (err as Error)?.message ?? String(err) });
    // RFC 3463 §3.4: 4.3.1 "mail system full"; RFC 5321 §4.2.2: 452 insufficient storage.
    if (isDiskFull(err)) return c.send({ code: 452, enhanced: "4.3.1", text: "Insufficient system storage (disk full), try again later" });
    return c.send(R.tempFail);
  }
  c.conn.log.info("message accepted", {
    txn: t.id,
    id,
    from: t.mailFrom.address,
    rcpts: t.rcpts.length,
    size: raw.length,
    quarantine: merged.verdict.kind === "quarantine" || undefined,
    junk: merged.junk.size || undefined,
  });
  c.send({ code: 250, enhanced: "2.0.0", text: `OK queued as ${id}` });
}
