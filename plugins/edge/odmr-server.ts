// The edge's ODMR listener (RFC 2645, `listen.ports.odmr`, 366): the home connects out,
// STARTTLS (the link certificate its pairing code pins), AUTH PLAIN with its credential
// (RFC 4954), then
//   XPAIR      once, with the one-time pairing secret: the credential in exchange;
//   XRCPTS     its valid recipients, one per line, ended like DATA (the edge refuses the
//              others at RCPT time);
//   ATRN [dom] (RFC 2645 §4.2): "453 You have no mail", or "250" and the roles reverse —
//              the link is parked for the delivery engine (link.ts);
//   MAIL/RCPT/DATA  the home's outbound mail, as from a smarthost: senders of its domain
//              only, every recipient relayed, nothing added but Received.
import { randomBytes } from "node:crypto";
import type { Core, Connection, Reply } from "../../core/types.ts";
import { decodePlain } from "../../core/sasl.ts";
import { LinkSocket, type Links } from "./link.ts";
import { completePairing, credentialKind, setRecipients, touchPeer, waitingFor } from "./peers.ts";
import { replyLine, txnCommand, type Txn, type TxnHandlers } from "./txn.ts";
import { Wire } from "./wire.ts";

/** Wrong credentials per IP: each failure waits longer; past the limit the IP is refused
 *  for a while (RFC 4954 §4 leaves the policy to the server). */
export class AuthLimiter {
  private fails = new Map<string, { n: number; until: number; last: number }>();
  constructor(
    private limit = 5,
    private banMs = 10 * 60_000,
  ) {}
  banned(ip: string): boolean {
    const f = this.fails.get(ip);
    if (f && f.until > Date.now()) return true;
    if (f?.until && f.until <= Date.now()) this.fails.delete(ip);
    return false;
  }
  /** Records a failure; the delay before answering (ms). A success does not wipe the
   *  count (a guesser could interleave a login of its own); failures age out instead. */
  fail(ip: string): number {
    const now = Date.now();
    const f = this.fails.get(ip) ?? { n: 0, until: 0, last: 0 };
    if (now - f.last > this.banMs) f.n = 0;
    f.n++;
    f.last = now;
    if (f.n >= this.limit) f.until = now + this.banMs;
    this.fails.set(ip, f);
    if (this.fails.size > 10_000) this.fails.delete(this.fails.keys().next().value!);
    return Math.min(f.n, 5) * 200;
  }
}

const MAX_RECIPIENT_LIST = 4 * 1024 * 1024;

export function odmrSession(core: Core, links: Links, limiter: AuthLimiter, conn: Connection): void {
  const wire = new Wire();
  let feed: (c: Buffer) => void = (c) => wire.feed(c);
  conn.onData((c) => feed(c));
  conn.onClose(() => wire.end());
  conn.setIdleTimeout(300_000);
  const send = (r: Reply) => conn.write(replyLine(r));
  const host = core.config.hostname;
  let domain: string | null = null;
  let pairing = false;
  const t: Txn = { rcpts: [] };

  const handlers: TxnHandlers = {
    maxSize: core.config.limits.maxMessageSize,
    maxRecipients: core.config.limits.maxRecipients,
    async mail(from) {
      const d = from.slice(from.lastIndexOf("@") + 1).toLowerCase();
      if (from !== "" && d !== domain) return { code: 550, enhanced: "5.7.1", text: `This link may send as @${domain} only` };
      return null;
    },
    async rcpt(to) {
      return { address: to, local: [], remote: [{ address: to }] };
    },
    async data(raw, mailFrom, rcpts) {
      const id = randomBytes(6).toString("hex");
      const received = `Received: from ${domain} ([${conn.remoteAddress}]) by ${host} (kotakpos edge) with ESMTPSA id ${id}; ${new Date().toUTCString()}\r\n`;
      const { id: spoolId } = await core.spool.accept({ raw, prefix: [received], mailFrom, local: [], remote: rcpts.flatMap((r) => r.remote) });
      conn.log.info("edge: relayed for home", { domain, spoolId, rcpts: rcpts.length });
      return { code: 250, enhanced: "2.0.0", text: `Queued as ${spoolId}` };
    },
  };

  async function auth(arg: string): Promise<void> {
    if (!conn.secure) return send({ code: 530, enhanced: "5.7.0", text: "Must issue a STARTTLS command first" });
    if (domain) return send({ code: 503, enhanced: "5.5.1", text: "Already authenticated" });
    if (limiter.banned(conn.remoteAddress)) return send({ code: 454, enhanced: "4.7.0", text: "Too many failed logins from your address; try again later" });
    const [mech, initial] = arg.split(/\s+/);
    if (mech?.toUpperCase() !== "PLAIN") return send({ code: 504, enhanced: "5.5.4", text: "Only AUTH PLAIN" });
    let b64 = initial;
    if (!b64) {
      conn.write("334 \r\n");
      b64 = (await wire.line()) ?? "*";
    }
    if (b64 === "*") return send({ code: 501, enhanced: "5.0.0", text: "Authentication cancelled" });
    const p = decodePlain(b64);
    const kind = p.ok ? await credentialKind(core.db, p.cred.username.toLowerCase(), p.cred.password) : null;
    if (!p.ok || !kind) {
      const wait = limiter.fail(conn.remoteAddress);
      conn.log.info("edge: pairing credential refused", { ip: conn.remoteAddress, user: p.ok ? p.cred.username : "" });
      await Bun.sleep(wait);
      return send({ code: 535, enhanced: "5.7.8", text: "Authentication credentials invalid" });
    }
    domain = p.cred.username.toLowerCase();
    pairing = kind === "pairing";
    if (!pairing) await touchPeer(core.db, domain);
    send({ code: 235, enhanced: "2.7.0", text: pairing ? "Pairing secret accepted: say XPAIR" : "Authentication successful" });
  }

  async function atrn(arg: string): Promise<boolean> {
    const asked = arg.trim()
      ? arg
          .trim()
          .toLowerCase()
          .split(/\s*,\s*/)
      : [domain!];
    if (asked.some((d) => d !== domain)) {
      send({ code: 530, enhanced: "5.7.0", text: `Not authorized for ${asked.filter((d) => d !== domain).join(", ")}` });
      return false;
    }
    const waiting = await waitingFor(core, domain!);
    if (waiting.count === 0) {
      send({ code: 453, text: "You have no mail" });
      return false;
    }
    // RFC 2645 §4.2: say OK, then this side is the client; what the home sends from now on
    // (its 220 greeting first) belongs to the SMTP session the delivery engine runs.
    send({ code: 250, text: "OK now reversing the connection" });
    const link = new LinkSocket(conn);
    const rest = wire.rest();
    if (rest.length) link.push(rest);
    feed = (c) => link.push(c);
    conn.setIdleTimeout(0);
    links.offer(domain!, link);
    for (const id of waiting.deferred) await core.spool.retry(id);
    conn.log.info("edge: link offered", { domain, messages: waiting.ids.length });
    return true;
  }

  async function run(): Promise<void> {
    send({ code: 220, text: `${host} ODMR service ready (RFC 2645)` });
    for (;;) {
      const line = await wire.line();
      if (line === null) return;
      const sp = line.indexOf(" ");
      const verb = (sp < 0 ? line : line.slice(0, sp)).toUpperCase();
      const arg = sp < 0 ? "" : line.slice(sp + 1);
      if (verb === "QUIT") {
        send({ code: 221, enhanced: "2.0.0", text: "Bye" });
        return conn.close();
      }
      if (verb === "EHLO" || verb === "HELO") {
        t.mailFrom = undefined;
        const ext = [...(conn.secure ? ["AUTH PLAIN"] : ["STARTTLS"]), "ATRN", `SIZE ${handlers.maxSize}`, "8BITMIME", "ENHANCEDSTATUSCODES"];
        conn.write(verb === "HELO" ? `250 ${host}\r\n` : [`250-${host}`, ...ext.map((e, i) => `250${i === ext.length - 1 ? " " : "-"}${e}`)].join("\r\n") + "\r\n");
        continue;
      }
      if (verb === "STARTTLS") {
        if (conn.secure) {
          send({ code: 503, enhanced: "5.5.1", text: "TLS already active" });
          continue;
        }
        send({ code: 220, enhanced: "2.0.0", text: "Ready to start TLS" });
        wire.rest(); // RFC 3207 §4.2: nothing pipelined before the handshake counts
        await conn.upgradeTls();
        continue;
      }
      if (verb === "AUTH") {
        await auth(arg);
        continue;
      }
      if (!domain) {
        send({ code: 530, enhanced: "5.7.0", text: "Authentication required" });
        continue;
      }
      if (pairing) {
        if (verb !== "XPAIR") {
          send({ code: 503, enhanced: "5.5.1", text: "Pairing: only XPAIR" });
          continue;
        }
        const secret = await completePairing(core.db, domain);
        pairing = false;
        conn.log.info("edge: home paired", { domain, ip: conn.remoteAddress });
        send({ code: 250, enhanced: "2.0.0", text: secret });
        continue;
      }
      if (verb === "XRCPTS") {
        send({ code: 354, text: "Send the recipients, one per line, end with <CR><LF>.<CR><LF>" });
        const d = await wire.data(MAX_RECIPIENT_LIST);
        if (d === null) return;
        if ("error" in d) {
          send({ code: 552, enhanced: "5.3.4", text: "Recipient list refused" });
          continue;
        }
        const list = [
          ...new Set(
            d.raw
              .toString("utf8")
              .split("\r\n")
              .map((l) => l.trim().toLowerCase())
              .filter((l) => l.endsWith("@" + domain)),
          ),
        ];
        await setRecipients(core.db, domain, list);
        send({ code: 250, enhanced: "2.0.0", text: `${list.length} recipients of ${domain}` });
        continue;
      }
      if (verb === "ATRN") {
        if (await atrn(arg)) return;
        continue;
      }
      if (await txnCommand(verb, arg, t, wire, send, handlers)) continue;
      send({ code: 502, enhanced: "5.5.1", text: "Command not implemented" });
    }
  }

  run().catch((e: Error) => {
    conn.log.warn("edge: odmr session failed", { err: e.message });
    conn.destroy();
  });
}
