// The home's side of the link: it connects out to its edge (no inbound port at home),
// verifies the edge's link certificate against the fingerprint of the pairing code (no CA
// involved), logs in, sends its recipients, says ATRN (RFC 2645 §4.2) and, when the edge
// has mail, becomes the SMTP server of that connection: each message is committed to the
// local store before its 250, so the edge drops it only once it is safe here.
import { createHash } from "node:crypto";
import net from "node:net";
import tls from "node:tls";
import type { Address, Connection, Core, Reply, Route, SmtpTxn } from "../../core/types.ts";
import { detachedConnection } from "../../core/detached-connection.ts";
import type { Resolver } from "../../core/dns/index.ts";
import { replyLine, txnCommand, type Routed, type Txn, type TxnHandlers } from "./txn.ts";
import { Wire } from "./wire.ts";

export interface LinkTarget {
  host: string;
  port: number;
  fingerprint: string;
}

export class LinkError extends Error {}

export interface OpenLink {
  wire: Wire;
  sock: tls.TLSSocket;
  cmd(line: string): Promise<{ code: number; text: string }>;
  write(s: string): void;
  close(): void;
}

const TIMEOUT_MS = 30_000;

/** Connect, STARTTLS, check the pinned certificate, EHLO: ready for AUTH. */
export async function openLink(t: LinkTarget, helo: string, resolver?: Resolver): Promise<OpenLink> {
  const where = `${t.host}:${t.port}`;
  // The edge's name through the configured resolver (dns.servers), as for delivery.
  let address = t.host;
  if (!net.isIP(t.host) && resolver) {
    const found = [...(await resolver.a(t.host).catch(() => [])), ...(await resolver.aaaa(t.host).catch(() => []))];
    if (!found.length) throw new LinkError(`${where}: the edge's name has no address`);
    address = found[0]!;
  }
  const plain = await new Promise<net.Socket>((resolve, reject) => {
    const s = net.connect({ host: address, port: t.port });
    const timer = setTimeout(() => (s.destroy(), reject(new LinkError(`${where}: connection timed out`))), TIMEOUT_MS);
    s.once("connect", () => (clearTimeout(timer), s.removeAllListeners("error"), resolve(s)));
    s.once("error", (e) => (clearTimeout(timer), reject(new LinkError(`${where}: ${e.message}`))));
  });
  let wire = new Wire();
  let sock: net.Socket = plain;
  const attach = (s: net.Socket) => {
    s.on("data", (c: Buffer) => wire.feed(c));
    s.on("close", () => wire.end());
    s.on("error", () => wire.end());
  };
  attach(plain);
  const cmd = async (line: string) => {
    if (line) sock.write(line + "\r\n");
    const r = await Promise.race([wire.reply(), Bun.sleep(TIMEOUT_MS).then(() => "timeout" as const)]);
    if (r === "timeout") throw new LinkError(`${where}: no answer to ${line.split(" ")[0] || "the greeting"}`);
    if (r === null) throw new LinkError(`${where}: the edge closed the connection`);
    return r;
  };
  try {
    const greet = await cmd("");
    if (greet.code !== 220) throw new LinkError(`${where}: greeting ${greet.code} ${greet.text}`);
    if ((await cmd(`EHLO ${helo}`)).code !== 250) throw new LinkError(`${where}: EHLO refused`);
    const st = await cmd("STARTTLS");
    if (st.code !== 220) throw new LinkError(`${where}: STARTTLS refused: ${st.code} ${st.text}`);
    plain.removeAllListeners("data");
    plain.removeAllListeners("close");
    plain.on("error", () => {});
    wire = new Wire();
    const secure = await new Promise<tls.TLSSocket>((resolve, reject) => {
      const s = tls.connect({ socket: plain, servername: net.isIP(t.host) ? undefined : t.host, rejectUnauthorized: false, minVersion: "TLSv1.2" });
      s.once("secureConnect", () => (s.removeAllListeners("error"), resolve(s)));
      s.once("error", (e) => reject(new LinkError(`${where}: TLS handshake failed: ${e.message}`)));
    });
    sock = secure;
    attach(secure);
    // The pin replaces the CA check: only the edge that made the pairing code has this key.
    const der = secure.getPeerCertificate().raw;
    const seen = der ? createHash("sha256").update(der).digest("hex") : "";
    if (seen !== t.fingerprint)
      throw new LinkError(`${where}: the edge's certificate (SHA-256 ${seen.slice(0, 16)}…) is not the one of the pairing (${t.fingerprint.slice(0, 16)}…): refusing to log in`);
    if ((await cmd(`EHLO ${helo}`)).code !== 250) throw new LinkError(`${where}: EHLO refused`);
  } catch (e) {
    sock.destroy();
    throw e;
  }
  const s = sock as tls.TLSSocket;
  return { wire, sock: s, cmd, write: (x) => void s.write(x), close: () => s.destroy() };
}

export async function login(l: OpenLink, domain: string, secret: string): Promise<void> {
  const r = await l.cmd(`AUTH PLAIN ${Buffer.from(`\0${domain}\0${secret}`).toString("base64")}`);
  if (r.code !== 235) throw new LinkError(`the edge refused the credential of ${domain}: ${r.code} ${r.text}`);
}

/** Send the home's valid recipients (XRCPTS): the edge refuses others at RCPT time. */
export async function syncRecipients(l: OpenLink, recipients: string[]): Promise<void> {
  const go = await l.cmd("XRCPTS");
  if (go.code !== 354) throw new LinkError(`the edge refused the recipient list: ${go.code} ${go.text}`);
  const body = recipients.map((r) => (r.startsWith(".") ? "." + r : r) + "\r\n").join("");
  const r = await l.cmd(body + ".");
  if (r.code !== 250) throw new LinkError(`the edge refused the recipient list: ${r.code} ${r.text}`);
}

/** A stand-in connection for the hooks (route, smtp.rcpt) of mail that came by the link. */
function linkConnection(core: Core, sock: tls.TLSSocket): Connection {
  return detachedConnection({
    id: "odmr",
    service: "odmr",
    remoteAddress: sock.remoteAddress ?? "",
    remotePort: sock.remotePort,
    localAddress: sock.localAddress,
    localPort: sock.localPort,
    secure: true,
    log: core.log.child({ edge: sock.remoteAddress ?? "" }),
    closing: core.closing,
  });
}

const addressOf = (a: string): Address => ({ address: a, local: a.slice(0, a.lastIndexOf("@")), domain: a.slice(a.lastIndexOf("@") + 1).toLowerCase(), params: {} });

/** After "250" to ATRN: serve SMTP to the edge until it quits; messages taken. The edge
 *  ran the inbound checks; its Authentication-Results (its authserv-id) stay as they are. */
export async function serveReversed(core: Core, l: OpenLink, edgeHost: string): Promise<number> {
  const conn = linkConnection(core, l.sock);
  const send = (r: Reply) => l.write(replyLine(r));
  const host = core.config.hostname;
  const t: Txn = { rcpts: [] };
  let taken = 0;
  let helo = edgeHost;
  const txnOf = (mailFrom: string): SmtpTxn => ({ id: "odmr", conn, helo, mailFrom: addressOf(mailFrom), rcpts: [], state: {} });
  const handlers: TxnHandlers = {
    maxSize: core.config.limits.maxMessageSize,
    maxRecipients: core.config.limits.maxRecipients,
    mail: async () => null,
    async rcpt(to, from): Promise<Routed | Reply> {
      const txn = txnOf(from);
      const addr = addressOf(to);
      const local = await core.store.isLocalDomain(addr.domain);
      const r = await core.hooks.first("route", txn, addr);
      let route: Route;
      if (r.kind === "reject" || r.kind === "defer") return r.reply;
      if (r.kind === "route") route = r;
      else if (local) return { code: 550, enhanced: "5.1.1", text: "No such user here" };
      else return { code: 550, enhanced: "5.7.1", text: `${addr.domain} is not a domain of this server` };
      if (route.local.length === 0 && route.remote.length === 0) return { code: 550, enhanced: "5.1.1", text: "No such user here" };
      const v = await core.hooks.first("smtp.rcpt", txn, addr, route);
      if (v.kind === "reject" || v.kind === "defer" || v.kind === "disconnect") return v.reply;
      return { address: to, local: route.local, remote: route.remote };
    },
    async data(raw, mailFrom, rcpts) {
      const received = `Received: from ${helo} ([${l.sock.remoteAddress}]) by ${host} (kotakpos) with ODMR (RFC 2645); ${new Date().toUTCString()}\r\n`;
      const { id } = await core.spool.accept({ raw, prefix: [received], mailFrom, local: rcpts.flatMap((r) => r.local), remote: rcpts.flatMap((r) => r.remote) });
      taken++;
      return { code: 250, enhanced: "2.0.0", text: `Delivered as ${id}` };
    },
  };
  send({ code: 220, text: `${host} ESMTP ready (ODMR)` });
  for (;;) {
    const line = await l.wire.line();
    if (line === null) return taken;
    const sp = line.indexOf(" ");
    const verb = (sp < 0 ? line : line.slice(0, sp)).toUpperCase();
    const arg = sp < 0 ? "" : line.slice(sp + 1);
    if (verb === "QUIT") {
      send({ code: 221, enhanced: "2.0.0", text: "Bye" });
      l.sock.end();
      return taken;
    }
    if (verb === "EHLO" || verb === "HELO") {
      helo = arg.trim() || edgeHost;
      t.mailFrom = undefined;
      l.write(verb === "HELO" ? `250 ${host}\r\n` : `250-${host}\r\n250-8BITMIME\r\n250-ENHANCEDSTATUSCODES\r\n250 SIZE ${handlers.maxSize}\r\n`);
      continue;
    }
    if (await txnCommand(verb, arg, t, l.wire, send, handlers)) continue;
    send({ code: 502, enhanced: "5.5.1", text: "Command not implemented" });
  }
}
