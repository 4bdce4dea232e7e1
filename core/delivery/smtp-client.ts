// The outbound SMTP client (RFC 5321) used for MX delivery: EHLO (HELO fallback),
// opportunistic STARTTLS (RFC 3207), PIPELINING (RFC 2920), SIZE (RFC 1870),
// 8BITMIME (RFC 6152), SMTPUTF8 (RFC 6531), DSN parameters (RFC 3461), and one
// connection reused for several transactions.
import net from "node:net";
import tls from "node:tls";
import { daneMatch, type TlsaRecord } from "./dane.ts";
import type { Logger } from "../types.ts";
import { dotStuff, has8bit, isUtf8Address, xtext } from "./wire.ts";

export interface SmtpReply {
  code: number;
  enhanced?: string;
  /** Text lines without the code. */
  lines: string[];
}

export function replyText(r: SmtpReply): string {
  return `${r.code}${r.enhanced ? " " + r.enhanced : ""} ${r.lines.join(" ").trim()}`;
}

/** A delivery failure: permanent (5xx, or a local decision such as SMTPUTF8 missing) or temporary. */
export class DeliveryError extends Error {
  constructor(
    message: string,
    readonly permanent: boolean,
    readonly reply?: SmtpReply,
    /** Failure before any transaction: the next host may work. */
    readonly connection = false,
  ) {
    super(message);
  }
}

/** RFC 5321 §4.5.3.2 minimum timeouts (ms); tests may shorten them. */
export interface SmtpTimeouts {
  connect: number;
  greeting: number; // §4.5.3.2.1: 5 min
  command: number; // MAIL, RCPT (§4.5.3.2.2-3): 5 min; EHLO, STARTTLS, RSET alike
  dataInit: number; // §4.5.3.2.4: 2 min
  dataBlock: number; // §4.5.3.2.5: 3 min per block written
  dataTerm: number; // §4.5.3.2.6: 10 min
}

export const RFC5321_TIMEOUTS: SmtpTimeouts = {
  connect: 30_000,
  greeting: 300_000,
  command: 300_000,
  dataInit: 120_000,
  dataBlock: 180_000,
  dataTerm: 600_000,
};

export interface ConnectOptions {
  /** IP address to connect to. */
  address: string;
  port: number;
  /** The MX host name (SNI, logs). */
  hostname: string;
  /** Our EHLO name. */
  helo: string;
  /** "opportunistic": STARTTLS when offered, certificate not verified (no MTA-STS/DANE);
   *  "required": fail (temporary) without TLS; "none": never (after a failed handshake). */
  tls: "opportunistic" | "required" | "none";
  /** MTA-STS (RFC 8461 §4.2) or DANE: TLS required and the certificate must verify (chain
   *  and MX host name); the text names the policy in the error (a temporary failure). */
  verifyTls?: string;
  /** Extra trusted CA certificates (PEM) for that check (delivery.caFile). */
  ca?: string[];
  /** DANE (RFC 7672): TLS required and the chain must match one of these records. */
  tlsa?: TlsaRecord[];
  /** TLS from the first byte (RFC 8314 §3.3, port 465) instead of STARTTLS. */
  implicitTls?: boolean;
  /** AUTH (RFC 4954) after TLS — a smarthost. Never sent without TLS. */
  auth?: { username: string; password: string };
  timeouts?: Partial<SmtpTimeouts>;
  log?: Logger;
  /** Aborts the connection attempt and the session (shutdown). */
  signal?: AbortSignal;
}

export interface Envelope {
  mailFrom: string;
  recipients: { address: string; notify?: string[]; orcpt?: string }[];
  dsn?: { ret?: "FULL" | "HDRS"; envid?: string };
}

export interface SendResult {
  /** Per recipient (in envelope order): the final reply for it (RCPT failure or DATA reply). */
  recipients: { address: string; ok: boolean; permanent: boolean; reply: string }[];
}

const MAX_LINE = 4096;
/** Bytes of message data written before waiting for the socket to drain. */
const DATA_BLOCK = 1 << 20;
const MAX_REPLY_LINES = 200;

export interface SmtpClient {
  readonly hostname: string;
  readonly address: string;
  readonly secure: boolean;
  /** After STARTTLS: the chain verified against the system's CAs and matched the MX name. */
  readonly verified: boolean;
  readonly extensions: Map<string, string>;
  /** Usable for another transaction. */
  readonly usable: boolean;
  send(env: Envelope, message: Uint8Array[]): Promise<SendResult>;
  quit(): Promise<void>;
  close(): void;
}

type Waiter = { resolve: (r: SmtpReply) => void; reject: (e: Error) => void; timer: ReturnType<typeof setTimeout> };

/** Line reader + reply assembler over one socket; swapped to the TLS socket after STARTTLS. */
function replyReader() {
  let buf = "";
  let lines: string[] = [];
  const ready: SmtpReply[] = [];
  const waiters: Waiter[] = [];
  let failed: Error | null = null;

  const deliver = (r: SmtpReply) => {
    const w = waiters.shift();
    if (w) {
      clearTimeout(w.timer);
      w.resolve(r);
    } else ready.push(r);
  };
  const fail = (e: Error) => {
    if (failed) return;
    failed = e;
    for (const w of waiters.splice(0)) {
      clearTimeout(w.timer);
      w.reject(e);
    }
  };
  const onLine = (line: string) => {
    const m = /^(\d{3})([ -])?(.*)$/.exec(line);
    if (!m) return fail(new DeliveryError(`bad reply line: ${line.slice(0, 100)}`, false));
    lines.push(m[3] ?? "");
    if (lines.length > MAX_REPLY_LINES) return fail(new DeliveryError("reply too long", false));
    if (m[2] === "-") return;
    const code = Number(m[1]);
    const text = lines;
    lines = [];
    // RFC 3463 enhanced status code at the start of the first line (RFC 2034).
    const enh = /^([245]\.\d{1,3}\.\d{1,3})\s*/.exec(text[0] ?? "");
    if (enh) text[0] = text[0]!.slice(enh[0].length);
    deliver({ code, enhanced: enh?.[1], lines: text });
  };
  return {
    push(chunk: Buffer) {
      buf += chunk.toString("latin1");
      let i: number;
      while ((i = buf.indexOf("\n")) >= 0) {
        onLine(buf.slice(0, i).replace(/\r$/, ""));
        buf = buf.slice(i + 1);
      }
      if (buf.length > MAX_LINE) fail(new DeliveryError("reply line too long", false));
    },
    /** The next reply, within `ms`. */
    next(ms: number, what: string): Promise<SmtpReply> {
      const r = ready.shift();
      if (r) return Promise.resolve(r);
      if (failed) return Promise.reject(failed);
      return new Promise((resolve, reject) => {
        const w: Waiter = {
          resolve,
          reject,
          timer: setTimeout(() => fail(new DeliveryError(`timeout waiting for ${what} reply`, false)), ms),
        };
        waiters.push(w);
      });
    },
    fail,
    /** Bytes or replies nobody asked for (e.g. a 421 before closing an idle session). */
    unsolicited: () => buf.length > 0 || ready.length > 0 || failed !== null,
  };
}

export async function connectSmtp(opts: ConnectOptions): Promise<SmtpClient> {
  const t = { ...RFC5321_TIMEOUTS, ...opts.timeouts };
  const log = opts.log;
  let reader = replyReader();
  if (opts.signal?.aborted) throw new DeliveryError("shutting down", false, undefined, true);
  let sock: net.Socket | tls.TLSSocket = await new Promise<net.Socket>((resolve, reject) => {
    const s = net.connect({ host: opts.address, port: opts.port });
    const abort = () => s.destroy(new Error("shutting down"));
    opts.signal?.addEventListener("abort", abort, { once: true });
    const timer = setTimeout(() => {
      s.destroy();
      reject(new DeliveryError(`connect to ${opts.address}:${opts.port} timed out`, false, undefined, true));
    }, t.connect);
    s.once("connect", () => {
      clearTimeout(timer);
      opts.signal?.removeEventListener("abort", abort);
      s.removeAllListeners("error");
      resolve(s);
    });
    s.once("error", (e) => {
      clearTimeout(timer);
      opts.signal?.removeEventListener("abort", abort);
      reject(new DeliveryError(`connect to ${opts.address}:${opts.port}: ${(e as Error).message}`, false, undefined, true));
    });
  });
  sock.setNoDelay(true);
  let closed = false;
  let broken = false;
  // Shutdown: whatever the session waits for fails now, the socket goes.
  const onAbort = () => {
    reader.fail(new DeliveryError("shutting down", false, undefined, true));
    sock.destroy();
  };
  opts.signal?.addEventListener("abort", onAbort, { once: true });
  sock.once("close", () => opts.signal?.removeEventListener("abort", onAbort));
  const attach = (s: net.Socket) => {
    s.on("data", (c: Buffer) => reader.push(c));
    s.on("error", (e) => reader.fail(new DeliveryError(`connection error: ${e.message}`, false)));
    s.on("close", () => {
      closed = true;
      reader.fail(new DeliveryError("connection closed by peer", false));
    });
  };
  attach(sock);

  const write = (data: string | Uint8Array) => {
    if (closed) throw new DeliveryError("connection closed", false);
    sock.write(data);
  };
  const cmd = async (line: string, ms: number, what: string) => {
    write(line + "\r\n");
    return reader.next(ms, what);
  };
  const fatal = (why: string, r?: SmtpReply, connection = false): DeliveryError => {
    broken = true;
    return new DeliveryError(`${opts.hostname}[${opts.address}]: ${why}${r ? ": " + replyText(r) : ""}`, r ? r.code >= 500 : false, r, connection);
  };

  let extensions = new Map<string, string>();
  let secure = false;
  let verified = false;

  async function ehlo(): Promise<void> {
    let r = await cmd(`EHLO ${opts.helo}`, t.command, "EHLO");
    if (r.code !== 250) {
      // RFC 5321 §3.2: fall back to HELO when EHLO is not understood.
      r = await cmd(`HELO ${opts.helo}`, t.command, "HELO");
      if (r.code !== 250) throw fatal("HELO refused", r, true);
      extensions = new Map();
      return;
    }
    extensions = new Map(
      r.lines.slice(1).map((l) => {
        const [k, ...rest] = l.trim().split(/\s+/);
        return [k!.toUpperCase(), rest.join(" ")] as const;
      }),
    );
  }

  /** The TLS handshake on the connected socket (STARTTLS or implicit), then the
   *  certificate check: recorded always, required by verifyTls. */
  async function handshake(): Promise<void> {
    sock.removeAllListeners("data");
    sock.removeAllListeners("close");
    sock.removeAllListeners("error");
    reader = replyReader();
    const plain = sock as net.Socket;
    // Errors of the raw socket surface on the TLS socket; never leave one unhandled.
    plain.on("error", () => {});
    sock = await new Promise<tls.TLSSocket>((resolve, reject) => {
      // TLS 1.2 at least, as on our listeners; the certificate is checked (not required)
      // so each delivery records whether it was verified.
      const ts = tls.connect({
        socket: plain,
        servername: net.isIP(opts.hostname) ? undefined : opts.hostname,
        rejectUnauthorized: false,
        minVersion: "TLSv1.2",
        ...(opts.ca?.length ? { ca: [...tls.rootCertificates, ...opts.ca] } : {}),
      });
      const timer = setTimeout(() => {
        ts.destroy();
        reject(new DeliveryError("TLS handshake timed out", false, undefined, true));
      }, t.command);
      ts.once("secureConnect", () => {
        clearTimeout(timer);
        ts.removeAllListeners("error");
        resolve(ts);
      });
      ts.once("error", (e) => {
        clearTimeout(timer);
        plain.destroy();
        reject(new TlsFailure(`${opts.hostname}[${opts.address}]: TLS handshake failed: ${e.message}`));
      });
    });
    sock.setNoDelay(true);
    attach(sock);
    secure = true;
    const ts = sock as tls.TLSSocket;
    const nameError = tls.checkServerIdentity(opts.hostname, ts.getPeerCertificate());
    verified = ts.authorized && nameError === undefined;
    if (opts.tlsa?.length) {
      // DANE replaces the CA check (RFC 7672 §3.1): the TLSA records vouch for the key.
      const usage = daneMatch(opts.tlsa, peerChain(ts));
      verified = usage === 3 || (usage === 2 && nameError === undefined);
      if (!verified) throw fatal(`DANE: the certificate matches none of the TLSA records of _25._tcp.${opts.hostname}${usage === 2 ? " for this host name" : ""}`, undefined, true);
    } else if (opts.verifyTls && !verified) throw fatal(`${opts.verifyTls} requires a valid certificate: ${certProblem(ts.authorizationError, nameError)}`, undefined, true);
  }

  /** RFC 4954: AUTH PLAIN (RFC 4616), or LOGIN where only that is offered. */
  async function authenticate(a: { username: string; password: string }): Promise<void> {
    if (!secure) throw fatal("refusing to send the relay password without TLS", undefined, true);
    const mechs = (extensions.get("AUTH") ?? "").toUpperCase().split(/\s+/);
    let r: SmtpReply;
    if (mechs.includes("PLAIN") || !mechs.includes("LOGIN")) {
      r = await cmd(`AUTH PLAIN ${Buffer.from(`\0${a.username}\0${a.password}`).toString("base64")}`, t.command, "AUTH");
    } else {
      r = await cmd("AUTH LOGIN", t.command, "AUTH");
      if (r.code === 334) r = await cmd(Buffer.from(a.username).toString("base64"), t.command, "AUTH");
      if (r.code === 334) r = await cmd(Buffer.from(a.password).toString("base64"), t.command, "AUTH");
    }
    // The relay's refusal goes into the deferral as it is; it is never a bounce: a password
    // fixed by the admin lets the queue go on.
    if (r.code !== 235) throw new DeliveryError(`${opts.hostname}[${opts.address}]: authentication refused: ${replyText(r)}`, false, r, true);
  }

  try {
    if (opts.implicitTls) await handshake();
    // §4.5.3.2.1: wait for the greeting; a 554 greeting means "no service here".
    const greet = await reader.next(t.greeting, "greeting");
    if (greet.code !== 220) throw fatal("greeting", greet, true);
    await ehlo();
    if (!opts.implicitTls && opts.tls !== "none" && extensions.has("STARTTLS")) {
      const r = await cmd("STARTTLS", t.command, "STARTTLS");
      if (r.code === 220) {
        await handshake();
        // RFC 3207 §4.2: forget what we knew, EHLO again.
        await ehlo();
      } else if (opts.tls === "required") {
        throw fatal(`STARTTLS refused${opts.verifyTls ? ` (${opts.verifyTls} requires TLS)` : ""}`, r, true);
      }
    } else if (!opts.implicitTls && opts.tls === "required") {
      throw fatal(`TLS required${opts.verifyTls ? ` by ${opts.verifyTls}` : ""} but STARTTLS not offered`, undefined, true);
    }
    if (opts.auth) await authenticate(opts.auth);
  } catch (e) {
    sock.destroy();
    if (e instanceof DeliveryError && !(e instanceof TlsFailure)) throw new DeliveryError(e.message, e.permanent, e.reply, true);
    throw e;
  }
  log?.debug("smtp out connected", { host: opts.hostname, address: opts.address, tls: secure });

  const sizeLimit = Number(extensions.get("SIZE") || 0);

  async function send(env: Envelope, message: Uint8Array[]): Promise<SendResult> {
    if (broken || closed || reader.unsolicited()) throw new DeliveryError("connection not usable", false, undefined, true);
    const size = message.reduce((n, p) => n + p.length, 0);
    const all = (ok: boolean, permanent: boolean, reply: string): SendResult => ({
      recipients: env.recipients.map((r) => ({ address: r.address, ok, permanent, reply })),
    });
    // Checks before any command (local, permanent decisions).
    const utf8 = isUtf8Address(env.mailFrom) || env.recipients.some((r) => isUtf8Address(r.address));
    if (utf8 && !extensions.has("SMTPUTF8")) return all(false, true, `553 5.6.7 ${opts.hostname} does not support SMTPUTF8, required for this address (RFC 6531 §3.2)`);
    if (sizeLimit > 0 && size > sizeLimit) return all(false, true, `552 5.3.4 message size ${size} exceeds ${opts.hostname}'s fixed limit of ${sizeLimit}`);

    let mail = `MAIL FROM:<${env.mailFrom}>`;
    if (extensions.has("SIZE")) mail += ` SIZE=${size}`;
    // RFC 6152 §3 would have 8-bit data converted for a peer without 8BITMIME; like
    // Postfix, we send it as it is (peers that say nothing about 8BITMIME take it).
    if (extensions.has("8BITMIME") && has8bit(message)) mail += " BODY=8BITMIME";
    if (utf8) mail += " SMTPUTF8";
    const dsnExt = extensions.has("DSN");
    if (dsnExt && env.dsn?.ret) mail += ` RET=${env.dsn.ret}`;
    if (dsnExt && env.dsn?.envid) mail += ` ENVID=${xtext(env.dsn.envid)}`;
    const rcptLines = env.recipients.map((r) => {
      let l = `RCPT TO:<${r.address}>`;
      if (dsnExt && r.notify?.length) l += ` NOTIFY=${r.notify.join(",")}`;
      if (dsnExt && r.orcpt) l += ` ORCPT=${r.orcpt.includes(";") ? r.orcpt.replace(/;(.*)$/, (_, a: string) => ";" + xtext(a)) : "rfc822;" + xtext(r.orcpt)}`;
      return l;
    });

    let mailReply: SmtpReply;
    const rcptReplies: SmtpReply[] = [];
    let dataReply: SmtpReply;
    if (extensions.has("PIPELINING")) {
      // RFC 2920 §3.1: MAIL, RCPTs and DATA in one group, replies read in order.
      write([mail, ...rcptLines, "DATA"].join("\r\n") + "\r\n");
      mailReply = await reader.next(t.command, "MAIL");
      for (let i = 0; i < rcptLines.length; i++) rcptReplies.push(await reader.next(t.command, "RCPT"));
      dataReply = await reader.next(t.dataInit, "DATA");
    } else {
      mailReply = await cmd(mail, t.command, "MAIL");
      if (mailReply.code !== 250) {
        await reset();
        return all(false, mailReply.code >= 500, replyText(mailReply));
      }
      for (const l of rcptLines) rcptReplies.push(await cmd(l, t.command, "RCPT"));
      if (!rcptReplies.some((r) => r.code === 250 || r.code === 251)) {
        await reset();
        return { recipients: env.recipients.map((r, i) => ({ address: r.address, ok: false, permanent: rcptReplies[i]!.code >= 500, reply: replyText(rcptReplies[i]!) })) };
      }
      dataReply = await cmd("DATA", t.dataInit, "DATA");
    }
    const accepted = rcptReplies.map((r) => r.code === 250 || r.code === 251);
    if (mailReply.code !== 250) {
      if (dataReply.code === 354) await sendData([Buffer.alloc(0)]); // should not happen; keep the stream in sync
      await reset();
      return all(false, mailReply.code >= 500, replyText(mailReply));
    }
    const perRcpt = (dataOk: boolean, permanent: boolean, reply: string): SendResult => ({
      recipients: env.recipients.map((r, i) =>
        accepted[i]
          ? { address: r.address, ok: dataOk, permanent: dataOk ? false : permanent, reply }
          : { address: r.address, ok: false, permanent: rcptReplies[i]!.code >= 500, reply: replyText(rcptReplies[i]!) },
      ),
    });
    if (dataReply.code !== 354) {
      await reset();
      return perRcpt(false, dataReply.code >= 500, replyText(dataReply));
    }
    if (!accepted.some(Boolean)) {
      // A server that said 354 with no valid recipient: send an empty body and discard the result.
      await sendData([Buffer.alloc(0)]);
      return perRcpt(false, false, "");
    }
    const final = await sendData(message);
    return perRcpt(final.code === 250, final.code >= 500, replyText(final));
  }

  async function sendData(message: Uint8Array[]): Promise<SmtpReply> {
    const data = dotStuff(message);
    // Usually one write (body and final dot together); big messages in blocks, each of
    // which must be taken within the data-block timeout (§4.5.3.2.5).
    for (let off = 0; off < data.length; off += DATA_BLOCK) {
      if (sock.write(data.subarray(off, off + DATA_BLOCK))) continue;
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          sock.off("drain", done);
          reject(fatal("timeout sending data"));
        }, t.dataBlock);
        const done = () => {
          clearTimeout(timer);
          resolve();
        };
        sock.once("drain", done);
      });
    }
    return reader.next(t.dataTerm, "end of data");
  }

  async function reset(): Promise<void> {
    const r = await cmd("RSET", t.command, "RSET");
    if (r.code !== 250) broken = true;
  }

  return {
    hostname: opts.hostname,
    address: opts.address,
    get secure() {
      return secure;
    },
    get verified() {
      return verified;
    },
    get extensions() {
      return extensions;
    },
    get usable() {
      return !broken && !closed && !reader.unsolicited();
    },
    async send(env, message) {
      try {
        return await send(env, message);
      } catch (e) {
        broken = true;
        sock.destroy();
        throw e;
      }
    },
    async quit() {
      if (closed) return;
      try {
        if (!broken) await cmd("QUIT", 5000, "QUIT");
      } catch {}
      sock.destroy();
    },
    close() {
      sock.destroy();
    },
  };
}

/** The presented chain as DER, leaf first. */
function peerChain(ts: tls.TLSSocket): Buffer[] {
  const out: Buffer[] = [];
  let c: tls.DetailedPeerCertificate | undefined = ts.getPeerCertificate(true);
  while (c?.raw && !out.some((b) => b.equals(c!.raw))) {
    out.push(c.raw);
    c = c.issuerCertificate;
  }
  return out;
}

/** OpenSSL's verification codes in plain words (for deferral reasons and bounces). */
const CERT_PROBLEMS: Record<string, string> = {
  DEPTH_ZERO_SELF_SIGNED_CERT: "self-signed certificate",
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: "certificate not signed by a trusted CA (self-signed or unknown issuer)",
  SELF_SIGNED_CERT_IN_CHAIN: "self-signed certificate in the chain",
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: "certificate issued by an unknown CA",
  CERT_HAS_EXPIRED: "certificate expired",
  CERT_NOT_YET_VALID: "certificate not yet valid",
};

function certProblem(code: Error | string | null | undefined, nameError: Error | undefined): string {
  const c = code ? String(typeof code === "string" ? code : ((code as Error & { code?: string }).code ?? code.message)) : "";
  if (c) return CERT_PROBLEMS[c] ? `${CERT_PROBLEMS[c]} (${c})` : c;
  return nameError ? `certificate not valid for the host name (${nameError.message})` : "not verified";
}

/** The STARTTLS handshake failed: the caller may retry the host without TLS. */
export class TlsFailure extends DeliveryError {
  constructor(message: string) {
    super(message, false, undefined, true);
  }
}
