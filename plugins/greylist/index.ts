// Greylisting (issue 22; off by default): on port 25 the first message of an unknown
// (client network, sender, recipient) triplet is deferred with 451 4.7.1 at RCPT; a retry
// after the delay passes, and the sender's domain is then remembered for its network so
// its later mail (to anyone here) is never greylisted again. A DMARC-aligned known
// sender (known.ts) is not greylisted from any network when SPF passes for it. Authenticated
// submissions and our own bounces are never greylisted. Kept in plugin-owned tables (schema.ts).
import type { SPFResult } from "mailauth";
import { resolverFromConfig } from "../../core/dns/index.ts";
import { definePlugin, defer, pass, type SmtpTxn } from "../../core/types.ts";
import { GreylistConfig } from "./config.ts";
import { DMARC_NET, envelopeAligned } from "./known.ts";
import { clientNet, senderKey } from "./triplet.ts";

declare module "../../core/types.ts" {
  interface TxnState {
    /** SPF of the client for the envelope domain, asked once per transaction (known.ts). */
    greylistSpf?: Promise<string>;
  }
}

/** RFC 7208 §4.6.4 limits the lookups; this bounds the time an SPF check at RCPT may take. */
const SPF_TIME_LIMIT_MS = 5_000;

export default definePlugin({
  name: "greylist",
  config: GreylistConfig,
  async setup(core, cfg) {
    if (!cfg.enabled) return;
    const log = core.log.child({ plugin: "greylist" });
    const resolver = resolverFromConfig(core.config);
    /** Remembered DMARC-aligned domains → until, so a busy sender costs no write per message. */
    const aligned = new Map<string, number>();
    const passedMs = cfg.passedDays * 86_400_000;

    const spfOf = (txn: SmtpTxn): Promise<string> =>
      (txn.state.greylistSpf ??= import("mailauth")
        .then(({ spf }) =>
          spf({ sender: txn.mailFrom.address, ip: txn.conn.remoteAddress, helo: txn.helo, mta: core.config.hostname, resolver: resolver.resolve as never, maxElapsedTime: SPF_TIME_LIMIT_MS }),
        )
        .then(
          (r: SPFResult) => r.status.result,
          () => "temperror",
        ));

    core.hooks.on(
      "smtp.rcpt",
      async (txn, rcpt) => {
        if (txn.user || txn.internal || txn.conn.service !== "smtp") return pass;
        const now = Date.now();
        const net = clientNet(txn.conn.remoteAddress);
        const domain = txn.mailFrom.domain || "<>";
        const known = await core.db.query({ sql: "SELECT net FROM greylist_passed WHERE net IN (?, ?) AND domain = ? AND until > ?", args: [net, DMARC_NET, domain, now] });
        if (known.rows.some((r) => r.net === net)) return pass;
        if (known.rows.length > 0) {
          const spf = await spfOf(txn);
          if (spf === "pass") {
            log.info("greylist skipped: DMARC-aligned known sender, SPF pass", { txn: txn.id, net, domain });
            return pass;
          }
        }
        const sender = senderKey(txn.mailFrom.address || "<>");
        const to = rcpt.address.toLowerCase();
        const row = await core.db.query({ sql: "SELECT first_seen FROM greylist_triplets WHERE net = ? AND sender = ? AND rcpt = ?", args: [net, sender, to] });
        const first = row.rows[0] ? Number(row.rows[0].first_seen) : null;
        const waitMs = cfg.delaySeconds * 1000;
        if (first !== null && now - first >= waitMs && now - first < cfg.retryHours * 3_600_000) {
          await core.db.write(async (tx) => {
            await tx.execute({
              sql: "INSERT INTO greylist_passed(net, domain, until) VALUES (?, ?, ?) ON CONFLICT(net, domain) DO UPDATE SET until = excluded.until",
              args: [net, domain, now + cfg.passedDays * 86_400_000],
            });
            await tx.execute({ sql: "DELETE FROM greylist_triplets WHERE net = ? AND sender = ? AND rcpt = ?", args: [net, sender, to] });
          });
          log.info("greylist passed", { txn: txn.id, net, sender, rcpt: to });
          return pass;
        }
        if (first === null || now - first >= cfg.retryHours * 3_600_000) {
          await core.db.write((tx) =>
            tx.execute({
              sql: "INSERT INTO greylist_triplets(net, sender, rcpt, first_seen) VALUES (?, ?, ?, ?) ON CONFLICT(net, sender, rcpt) DO UPDATE SET first_seen = excluded.first_seen",
              args: [net, sender, to, now],
            }),
          );
        }
        const left = Math.max(1, Math.ceil((waitMs - (now - (first ?? now))) / 1000));
        log.info("greylisted", { txn: txn.id, net, sender, rcpt: to, retryIn: left });
        return defer(451, "4.7.1", `Greylisted, please try again in ${left} seconds`);
      },
      { plugin: "greylist" },
    );

    // Remember a MAIL FROM domain whose message passed DMARC aligned with it and was kept.
    core.hooks.on(
      "smtp.data",
      async (txn) => {
        const none = { kind: "check", verdict: pass } as const;
        if (txn.user || txn.internal || txn.conn.service !== "smtp" || !txn.mailFrom.domain) return none;
        // mailauth's DMARC outcome; by the time it is known the junk filter's check has started.
        const dmarc = await (txn.state.dmarc ?? Promise.resolve(null));
        const domain = txn.mailFrom.domain.toLowerCase();
        if (dmarc?.result !== "pass" || !envelopeAligned(domain, dmarc.domain)) return none;
        if ((await (txn.state.junked ?? Promise.resolve([]))).length > 0) return none;
        const now = Date.now();
        if ((aligned.get(domain) ?? 0) > now + passedMs / 2) return none;
        aligned.set(domain, now + passedMs);
        await core.db.write((tx) =>
          tx.execute({
            sql: "INSERT INTO greylist_passed(net, domain, until) VALUES (?, ?, ?) ON CONFLICT(net, domain) DO UPDATE SET until = excluded.until",
            args: [DMARC_NET, domain, now + passedMs],
          }),
        );
        log.info("greylist: DMARC-aligned sender remembered", { txn: txn.id, domain });
        return none;
      },
      { plugin: "greylist" },
    );
  },
});
