// Greylisting (issue 22; off by default): on port 25 the first message of an unknown
// (client network, sender, recipient) triplet is deferred with 451 4.7.1 at RCPT; a retry
// after the delay passes, and the sender's domain is then remembered for its network so
// its later mail (to anyone here) is never greylisted again. Authenticated submissions
// and our own bounces are never greylisted. Kept in plugin-owned tables (schema.ts).
import { definePlugin, defer, pass } from "../../core/types.ts";
import { GreylistConfig } from "./config.ts";
import { clientNet, senderKey } from "./triplet.ts";

export default definePlugin({
  name: "greylist",
  config: GreylistConfig,
  async setup(core, cfg) {
    if (!cfg.enabled) return;
    const log = core.log.child({ plugin: "greylist" });
    core.hooks.on(
      "smtp.rcpt",
      async (txn, rcpt) => {
        if (txn.user || txn.internal || txn.conn.service !== "smtp") return pass;
        const now = Date.now();
        const net = clientNet(txn.conn.remoteAddress);
        const domain = txn.mailFrom.domain || "<>";
        const known = await core.db.query({ sql: "SELECT 1 FROM greylist_passed WHERE net = ? AND domain = ? AND until > ?", args: [net, domain, now] });
        if (known.rows.length > 0) return pass;
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
  },
});
