// DNS block and allow lists (issue 22): the connecting IP (IPv4 and IPv6, RFC 5782) is
// looked up when an SMTP client connects to port 25 and judged at MAIL FROM; the
// sender's and the linked domains at DATA. A listing refuses with 554 naming the list, or
// files into Junk (`action`); a list that refuses the query (127.255.255.x) or fails is
// never a listing: the message is accepted and a warning logged.
import { parseAddressList } from "../../core/mime/index.ts";
import { resolverFromConfig } from "../../core/dns/index.ts";
import { definePlugin, pass, reject, type Connection } from "../../core/types.ts";
import { isPrivate, reverseName } from "./codes.ts";
import { DnsblConfig } from "./config.ts";
import { messageDomains } from "./domains.ts";
import { Lists, type Listing } from "./lookup.ts";

declare module "../../core/types.ts" {
  interface ConnState {
    /** The connecting IP's lookup (started at connect): a listing, "allowed", or null. */
    dnsbl?: Promise<Listing | "allowed" | null>;
  }
}

export default definePlugin({
  name: "dnsbl",
  config: DnsblConfig,
  setup(core, cfg) {
    if (cfg.ipZones.length + cfg.domainZones.length === 0) return;
    const log = core.log.child({ plugin: "dnsbl" });
    const lists = new Lists(resolverFromConfig(core.config), log, cfg.cacheSeconds * 1000);

    async function checkIp(conn: Connection): Promise<Listing | "allowed" | null> {
      const ip = conn.remoteAddress;
      const name = reverseName(ip);
      if (!name || (!cfg.checkPrivate && isPrivate(ip))) return null;
      if (cfg.allowZones.length > 0) {
        const ok = await lists.allowed(name, ip, cfg.allowZones);
        if (ok) {
          log.info("client allow-listed", { conn: conn.id, ip, list: ok });
          return "allowed";
        }
      }
      return cfg.ipZones.length > 0 ? lists.firstListing(name, ip, cfg.ipZones) : null;
    }

    const refusal = (l: Listing, what: string) =>
      // RFC 5782 §5 / RFC 3463 5.7.1: say which list, so the sender can get delisted.
      reject(554, "5.7.1", `${what} ${l.subject} is listed by ${l.zone} (${l.reason})`);

    core.hooks.on(
      "connect",
      (conn) => {
        if (conn.service === "smtp") {
          conn.state.dnsbl = checkIp(conn);
          conn.state.dnsbl.catch(() => undefined);
        }
        return pass;
      },
      { plugin: "dnsbl" },
    );

    core.hooks.on(
      "smtp.mail",
      async (txn) => {
        if (txn.user || txn.conn.service !== "smtp" || cfg.action !== "reject") return pass;
        const l = await txn.conn.state.dnsbl;
        if (!l || l === "allowed") return pass;
        log.info("client refused: listed", { conn: txn.conn.id, ip: l.subject, list: l.zone, answer: l.answer });
        return refusal(l, "Client host");
      },
      { plugin: "dnsbl" },
    );

    core.hooks.on(
      "smtp.data",
      async (txn, msg) => {
        if (txn.user || txn.internal || txn.conn.service !== "smtp") return { kind: "check", verdict: pass };
        const ip = await txn.conn.state.dnsbl;
        if (ip === "allowed") return { kind: "check", verdict: pass };
        let listing: Listing | null = ip ?? null;
        let what = "Client host";
        if (!listing && cfg.domainZones.length > 0) {
          const senders = [txn.mailFrom.domain];
          for (const h of msg.headers) if (h.name === "from") for (const a of parseAddressList(h.value)) if (a.host) senders.push(a.host);
          const domains = messageDomains(msg.raw, senders.filter(Boolean), cfg.maxDomains);
          const found = await Promise.all(domains.map((d) => lists.firstListing(d, d, cfg.domainZones)));
          listing = found.find((x) => x !== null) ?? null;
          what = "Domain";
        }
        if (!listing) return { kind: "check", verdict: pass };
        log.info(cfg.action === "reject" ? "message refused: listed" : "message to Junk: listed", { txn: txn.id, subject: listing.subject, list: listing.zone, answer: listing.answer });
        if (cfg.action === "reject") return { kind: "check", verdict: refusal(listing, what) };
        return {
          kind: "check",
          verdict: { kind: "quarantine", reason: `${listing.subject} listed by ${listing.zone}` },
          headers: [`X-DNSBL: ${listing.subject} listed by ${listing.zone} (${listing.reason})`],
        };
      },
      { plugin: "dnsbl" },
    );
  },
});
