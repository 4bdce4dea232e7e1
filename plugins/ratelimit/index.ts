// Limits against abuse of our own accounts (issue 22): per-account and per-IP submission
// rates (messages and recipients per hour, 451 4.7.0 with the reason, one alert to the
// admins per account and hour), a burst to many new recipients holds the account's
// sending and alerts, and an IP with repeated failed logins is refused on every service
// for a while, each failure logged as one fail2ban-friendly line `auth failure rip=IP`.
import { definePlugin, defer, pass, type AuthUser, type Connection, type Core, type Credentials } from "../../core/types.ts";
import { sendAlert } from "./alert.ts";
import { RatelimitConfig } from "./config.ts";
import { Expiring, SlidingCounter } from "./window.ts";

const HOUR = 3_600_000;
const MINUTE = 60_000;

declare module "../../core/types.ts" {
  interface TxnState {
    /** Recipients counted for the rate limits in this transaction. */
    ratelimitRcpts?: number;
  }
}

export default definePlugin({
  name: "ratelimit",
  config: RatelimitConfig,
  setup(core: Core, cfg) {
    const log = core.log.child({ plugin: "ratelimit" });
    const messages = new SlidingCounter(HOUR);
    const recipients = new SlidingCounter(HOUR);
    const newRcpts = new SlidingCounter(cfg.burstMinutes * MINUTE);
    const known = new Map<number, Set<string>>(); // recipients each account wrote to
    const held = new Expiring();
    const alerted = new Expiring();
    const failures = new SlidingCounter(cfg.authWindowMinutes * MINUTE);
    const banned = new Expiring();

    function alertOnce(key: string, subject: string, text: string): void {
      if (alerted.has(key)) return;
      alerted.set(key, HOUR);
      sendAlert(core, cfg.alertTo, subject, text).catch((err) => log.error("rate limit alert failed", { err: (err as Error)?.message ?? String(err) }));
    }

    function overLimit(user: AuthUser, ip: string, addMsgs: number, addRcpts: number): string | null {
      const checks: [number, number, string][] = [
        [cfg.messagesPerHour, messages.count(`a:${user.accountId}`) + addMsgs, `${cfg.messagesPerHour} messages per hour for ${user.address}`],
        [cfg.recipientsPerHour, recipients.count(`a:${user.accountId}`) + addRcpts, `${cfg.recipientsPerHour} recipients per hour for ${user.address}`],
        [cfg.ipMessagesPerHour, messages.count(`i:${ip}`) + addMsgs, `${cfg.ipMessagesPerHour} messages per hour from ${ip}`],
        [cfg.ipRecipientsPerHour, recipients.count(`i:${ip}`) + addRcpts, `${cfg.ipRecipientsPerHour} recipients per hour from ${ip}`],
      ];
      const hit = checks.find(([limit, n]) => limit > 0 && n > limit);
      return hit ? hit[2] : null;
    }

    function limitReply(user: AuthUser, ip: string, reason: string) {
      log.warn("submission rate limit", { user: user.address, ip, limit: reason });
      alertOnce(
        `limit:${user.accountId}`,
        `Sending limit reached by ${user.address}`,
        `The account ${user.address} reached its sending limit (${reason}); its further messages are deferred with 451 until the hour has passed.\r\nLast client address: ${ip}.\r\nIf the account was not expected to send this much, it may be compromised: change its password.`,
      );
      return defer(451, "4.7.0", `Sending limit reached: at most ${reason}; try again later`);
    }

    const heldReply = () => defer(451, "4.7.0", "Sending held: an unusual burst of mail to new recipients; the administrator has been alerted");

    core.hooks.on(
      "smtp.mail",
      (txn) => {
        const user = txn.user;
        if (!user) return pass;
        if (held.has(`a:${user.accountId}`)) return heldReply();
        const reason = overLimit(user, txn.conn.remoteAddress, 1, 0);
        return reason ? limitReply(user, txn.conn.remoteAddress, reason) : pass;
      },
      { plugin: "ratelimit" },
    );

    core.hooks.on(
      "smtp.rcpt",
      (txn, rcpt) => {
        const user = txn.user;
        if (!user) return pass;
        const ip = txn.conn.remoteAddress;
        if (held.has(`a:${user.accountId}`)) return heldReply();
        const reason = overLimit(user, ip, 1, (txn.state.ratelimitRcpts ?? 0) + 1);
        if (reason) return limitReply(user, ip, reason);
        const addr = `${rcpt.local}@${rcpt.domain}`.toLowerCase();
        const seen = known.get(user.accountId) ?? new Set<string>();
        known.set(user.accountId, seen);
        if (cfg.burstNewRecipients > 0 && !seen.has(addr) && newRcpts.count(`a:${user.accountId}`) + 1 > cfg.burstNewRecipients) {
          held.set(`a:${user.accountId}`, cfg.holdMinutes * MINUTE);
          log.warn("submission held: burst of new recipients", { user: user.address, ip, newRecipients: cfg.burstNewRecipients, minutes: cfg.burstMinutes });
          alertOnce(
            `burst:${user.accountId}`,
            `Sending held for ${user.address}`,
            `The account ${user.address} sent to more than ${cfg.burstNewRecipients} new recipients within ${cfg.burstMinutes} minutes; its submissions are deferred (451) for ${cfg.holdMinutes} minutes.\r\nLast client address: ${ip}.\r\nIf this was not the user, the account may be compromised: change its password.`,
          );
          return heldReply();
        }
        txn.state.ratelimitRcpts = (txn.state.ratelimitRcpts ?? 0) + 1;
        return pass;
      },
      { plugin: "ratelimit" },
    );

    core.hooks.on(
      "smtp.data",
      (txn) => {
        const user = txn.user;
        if (!user) return { kind: "check", verdict: pass };
        const ip = txn.conn.remoteAddress;
        const n = txn.rcpts.length;
        messages.add(`a:${user.accountId}`);
        messages.add(`i:${ip}`);
        recipients.add(`a:${user.accountId}`, n);
        recipients.add(`i:${ip}`, n);
        const seen = known.get(user.accountId) ?? new Set<string>();
        known.set(user.accountId, seen);
        for (const r of txn.rcpts) {
          const a = `${r.local}@${r.domain}`.toLowerCase();
          if (seen.has(a)) continue;
          seen.add(a);
          newRcpts.add(`a:${user.accountId}`);
        }
        return { kind: "check", verdict: pass };
      },
      { plugin: "ratelimit" },
    );

    if (cfg.maxAuthFailures > 0) {
      const banReply = { code: 421, enhanced: "4.7.0", text: "Too many failed logins from your address; try again later" };
      core.hooks.on("connect", (conn: Connection) => (banned.has(conn.remoteAddress) ? { kind: "disconnect", reply: banReply } : pass), { plugin: "ratelimit" });
      // Observes each login without deciding it (the core's check and its limiter do):
      // a wrong password is counted and logged here. The store's credential cache makes
      // the core's second check of a right password cheap; a wrong one is hashed twice.
      core.hooks.on(
        "auth",
        async (conn: Connection | undefined, cred: Credentials) => {
          const ip = conn?.remoteAddress;
          if (!ip) return pass;
          if (banned.has(ip)) return { kind: "reject", reply: banReply };
          const acct = cred.authzid && cred.authzid.toLowerCase() !== cred.username.toLowerCase() ? null : await core.store.verifyPassword(cred.username, cred.password);
          if (acct && !acct.disabled) return pass;
          // One line per failure in a fixed shape for fail2ban: `auth failure rip=<HOST>`.
          log.warn(`auth failure rip=${ip}`, { service: conn.service, user: cred.username });
          if (failures.add(ip) >= cfg.maxAuthFailures && !banned.has(ip)) {
            banned.set(ip, cfg.banMinutes * MINUTE);
            log.warn(`auth ban rip=${ip}`, { failures: cfg.maxAuthFailures, minutes: cfg.banMinutes });
          }
          return pass;
        },
        { plugin: "ratelimit" },
      );
    }
  },
});
