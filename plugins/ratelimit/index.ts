// Limits against abuse of our own accounts (issue 22): per-account and per-IP submission
// rates (messages and recipients per hour, 451 4.7.0 with the reason, one alert to the
// admins per account and hour); a burst to many new recipients holds the account — its
// submissions deferred, its outbound mail already queued held in the spool until an admin
// releases it (`kotakpos ratelimit held|release`, methods.ts) — and alerts; an IP with
// repeated failed logins is refused on every service for a while, each failure logged as
// one fail2ban-friendly line `auth failure rip=IP`. Counts, holds and bans are kept in the
// plugin's tables (state.ts), so a restart forgets none of them.
import { definePlugin, defer, pass, type AuthUser, type Connection, type Core, type Credentials } from "../../core/types.ts";
import { sendAlert } from "./alert.ts";
import { ratelimitCli } from "./cli.ts";
import { RatelimitConfig } from "./config.ts";
import { live, ratelimitAdmin } from "./methods.ts";
import { RateState, sendersOf } from "./state.ts";

const HOUR = 3_600_000;
const MINUTE = 60_000;
/** With other writers: how often their counts, holds and bans are read in. */
const REFRESH_MS = 5_000;
const FOREVER = Number.MAX_SAFE_INTEGER;

declare module "../../core/types.ts" {
  interface TxnState {
    /** Recipients counted for the rate limits in this transaction. */
    ratelimitRcpts?: number;
    /** Of those, new ones (never written to before by the account). */
    ratelimitNew?: Set<string>;
  }
}

export default definePlugin({
  name: "ratelimit",
  config: RatelimitConfig,
  commands: [ratelimitCli],
  admin: (core) => ratelimitAdmin(core),
  async setup(core: Core, cfg) {
    const log = core.log.child({ plugin: "ratelimit" });
    const state = new RateState(core.db, log);
    try {
      await state.load();
    } catch (err) {
      log.warn("ratelimit: saved counters not read", { err: (err as Error)?.message ?? String(err) });
    }
    live.set(core.db, state);
    // Other processes or instances count, hold and ban too: take theirs in every few seconds.
    const refresh = core.store.othersWrite()
      ? setInterval(() => state.refresh().catch((err) => log.warn("ratelimit: refresh failed", { err: (err as Error)?.message ?? String(err) })), REFRESH_MS)
      : null;
    refresh?.unref?.();
    const hourly = (key: string) => state.count(key, HOUR);

    function alertOnce(key: string, subject: string, text: string): void {
      if (state.flag(`alerted:${key}`)) return;
      state.setFlag(`alerted:${key}`, HOUR);
      sendAlert(core, cfg.alertTo, subject, text).catch((err) => log.error("rate limit alert failed", { err: (err as Error)?.message ?? String(err) }));
    }

    function overLimit(user: AuthUser, ip: string, addMsgs: number, addRcpts: number): string | null {
      const checks: [number, number, string][] = [
        [cfg.messagesPerHour, hourly(`m:a:${user.accountId}`) + addMsgs, `${cfg.messagesPerHour} messages per hour for ${user.address}`],
        [cfg.recipientsPerHour, hourly(`r:a:${user.accountId}`) + addRcpts, `${cfg.recipientsPerHour} recipients per hour for ${user.address}`],
        [cfg.ipMessagesPerHour, hourly(`m:i:${ip}`) + addMsgs, `${cfg.ipMessagesPerHour} messages per hour from ${ip}`],
        [cfg.ipRecipientsPerHour, hourly(`r:i:${ip}`) + addRcpts, `${cfg.ipRecipientsPerHour} recipients per hour from ${ip}`],
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

    /** The burst: the account's submissions stop and its queued outbound mail is held. */
    async function hold(user: AuthUser, ip: string): Promise<void> {
      const reason = `more than ${cfg.burstNewRecipients} new recipients within ${cfg.burstMinutes} minutes`;
      state.setFlag(`held:${user.accountId}`, cfg.holdMinutes > 0 ? cfg.holdMinutes * MINUTE : FOREVER, JSON.stringify({ address: user.address, reason, ip, at: Date.now() }));
      let queued: string[] = [];
      try {
        await state.flush(); // the senders recorded so far are in the table
        queued = await core.spool.hold(await sendersOf(core.db, user.accountId));
      } catch (err) {
        log.error("ratelimit: queued mail not held", { user: user.address, err: (err as Error)?.message ?? String(err) });
      }
      log.warn("submission held: burst of new recipients", { user: user.address, ip, newRecipients: cfg.burstNewRecipients, minutes: cfg.burstMinutes, queuedHeld: queued.length });
      const until = cfg.holdMinutes > 0 ? `for ${cfg.holdMinutes} minutes` : "until an administrator releases the account";
      alertOnce(
        `burst:${user.accountId}`,
        `Sending held for ${user.address}`,
        [
          `The account ${user.address} sent to ${reason}; its submissions are deferred (451) ${until}.`,
          `Its outbound messages still queued (${queued.length}) are held, not delivered, until released.`,
          `Last client address: ${ip}.`,
          "If this was not the user, the account may be compromised: change its password.",
          `List held mail: kotakpos ratelimit held`,
          `Release the account and its mail: kotakpos ratelimit release ${user.address}`,
          `Or drop a held message: kotakpos queue delete ID`,
        ].join("\r\n"),
      );
    }

    core.hooks.on(
      "smtp.mail",
      (txn) => {
        const user = txn.user;
        if (!user) return pass;
        if (state.flag(`held:${user.accountId}`)) return heldReply();
        const reason = overLimit(user, txn.conn.remoteAddress, 1, 0);
        return reason ? limitReply(user, txn.conn.remoteAddress, reason) : pass;
      },
      { plugin: "ratelimit" },
    );

    core.hooks.on(
      "smtp.rcpt",
      async (txn, rcpt) => {
        const user = txn.user;
        if (!user) return pass;
        const ip = txn.conn.remoteAddress;
        if (state.flag(`held:${user.accountId}`)) return heldReply();
        const reason = overLimit(user, ip, 1, (txn.state.ratelimitRcpts ?? 0) + 1);
        if (reason) return limitReply(user, ip, reason);
        const addr = `${rcpt.local}@${rcpt.domain}`.toLowerCase();
        const fresh = (txn.state.ratelimitNew ??= new Set());
        if (cfg.burstNewRecipients > 0 && !fresh.has(addr) && !(await state.knownRecipients(user.accountId)).has(addr)) {
          if (state.count(`n:a:${user.accountId}`, cfg.burstMinutes * MINUTE) + fresh.size + 1 > cfg.burstNewRecipients) {
            if (txn.mailFrom.address) state.addSender(user.accountId, txn.mailFrom.address);
            await hold(user, ip);
            return heldReply();
          }
          fresh.add(addr);
        }
        txn.state.ratelimitRcpts = (txn.state.ratelimitRcpts ?? 0) + 1;
        return pass;
      },
      { plugin: "ratelimit" },
    );

    core.hooks.on(
      "smtp.data",
      async (txn) => {
        const user = txn.user;
        if (!user) return { kind: "check", verdict: pass };
        const ip = txn.conn.remoteAddress;
        const n = txn.rcpts.length;
        state.add(`m:a:${user.accountId}`);
        state.add(`m:i:${ip}`);
        state.add(`r:a:${user.accountId}`, n);
        state.add(`r:i:${ip}`, n);
        if (txn.mailFrom.address) state.addSender(user.accountId, txn.mailFrom.address);
        const added = await state.addRecipients(
          user.accountId,
          txn.rcpts.map((r) => `${r.local}@${r.domain}`),
        );
        state.add(`n:a:${user.accountId}`, added);
        return { kind: "check", verdict: pass };
      },
      { plugin: "ratelimit" },
    );

    if (cfg.maxAuthFailures > 0) {
      const banReply = { code: 421, enhanced: "4.7.0", text: "Too many failed logins from your address; try again later" };
      core.hooks.on("connect", (conn: Connection) => (state.flag(`ban:${conn.remoteAddress}`) ? { kind: "disconnect", reply: banReply } : pass), { plugin: "ratelimit" });
      // Observes each login without deciding it (the core's check and its limiter do):
      // a wrong password is counted and logged here. The store's credential cache makes
      // the core's second check of a right password cheap; a wrong one is hashed twice.
      core.hooks.on(
        "auth",
        async (conn: Connection | undefined, cred: Credentials) => {
          const ip = conn?.remoteAddress;
          if (!ip) return pass;
          if (state.flag(`ban:${ip}`)) return { kind: "reject", reply: banReply };
          const acct = cred.authzid && cred.authzid.toLowerCase() !== cred.username.toLowerCase() ? null : await core.store.verifyPassword(cred.username, cred.password);
          if (acct && !acct.disabled) return pass;
          // One line per failure in a fixed shape for fail2ban: `auth failure rip=<HOST>`.
          log.warn(`auth failure rip=${ip}`, { service: conn.service, user: cred.username });
          state.add(`f:${ip}`);
          if (state.count(`f:${ip}`, cfg.authWindowMinutes * MINUTE) >= cfg.maxAuthFailures && !state.flag(`ban:${ip}`)) {
            state.setFlag(`ban:${ip}`, cfg.banMinutes * MINUTE, JSON.stringify({ failures: cfg.maxAuthFailures }));
            log.warn(`auth ban rip=${ip}`, { failures: cfg.maxAuthFailures, minutes: cfg.banMinutes });
          }
          return pass;
        },
        { plugin: "ratelimit" },
      );
    }

    return async () => {
      if (refresh) clearInterval(refresh);
      await state.flush();
      if (live.get(core.db) === state) live.delete(core.db);
    };
  },
});
