// The rspamd plugin (issue 22): when `[rspamd] url` is set, mail arriving on port 25 (and
// submitted mail with `outbound`) is checked through rspamd's /checkv2 and its action
// applied (actions.ts); a user's move into or out of Junk calls learn_spam / learn_ham. A
// timeout or an outage never loses mail: accepted without a score (or deferred, by config).
import type { MessageMeta } from "../../core/store/types.ts";
import { definePlugin, pass } from "../../core/types.ts";
import { toDataCheck } from "./actions.ts";
import { controllerOf, RspamdClient } from "./client.ts";
import { RspamdConfig } from "./config.ts";

const isJunk = (mb: { name: string; specialUse: string | null }) => mb.specialUse === "\\Junk" || mb.name.toLowerCase() === "junk";
const isTrash = (mb: { name: string; specialUse: string | null }) => mb.specialUse === "\\Trash" || mb.name.toLowerCase() === "trash";

export default definePlugin({
  name: "rspamd",
  config: RspamdConfig,
  setup(core, cfg) {
    if (!cfg.url) return;
    const log = core.log.child({ plugin: "rspamd" });
    const client = new RspamdClient(cfg.url, controllerOf(cfg.url, cfg.controllerUrl), cfg.password, cfg.timeout * 1000);
    /** Blobs learned as spam by this process (a move back out then learns ham). */
    const learnedSpam = new Set<string>();

    core.hooks.on(
      "smtp.data",
      async (txn, msg, { signal }) => {
        if (txn.internal || (txn.user && !cfg.outbound)) return { kind: "check", verdict: pass };
        try {
          const r = await client.check(
            msg.raw,
            { ip: txn.conn.remoteAddress, helo: txn.helo, from: txn.mailFrom.address, rcpts: txn.rcpts.map((a) => a.address), queueId: txn.id, ...(txn.user && { user: txn.user.address }) },
            signal,
          );
          log.info("rspamd checked", { txn: txn.id, action: r.action, score: r.score });
          return toDataCheck(r);
        } catch (err) {
          const e = (err as Error)?.message ?? String(err);
          if (cfg.onFailure === "defer") {
            log.warn("rspamd unavailable: message deferred", { txn: txn.id, err: e });
            return { kind: "check", verdict: { kind: "defer", reply: { code: 451, enhanced: "4.7.1", text: "Spam check unavailable, please try again later" } } };
          }
          log.warn("rspamd unavailable: message accepted without a score", { txn: txn.id, err: e });
          return { kind: "check", verdict: pass };
        }
      },
      { plugin: "rspamd", timeoutMs: cfg.timeout * 1000 + 1000 },
    );

    async function learn(kind: "spam" | "ham", m: MessageMeta): Promise<void> {
      const r = await client.learn(kind, await core.store.read(m));
      if (kind === "spam") learnedSpam.add(m.blobId);
      else learnedSpam.delete(m.blobId);
      if (r.success) log.info(`rspamd learned ${kind}`, { uid: m.uid });
      else log.warn(`rspamd learn_${kind} refused`, { uid: m.uid, err: r.error });
    }

    // User moves and copies (events without flags, or with a session origin); deliveries
    // (no origin, with flags) are not training.
    const off = core.store.onChange((ev) => {
      if (ev.remote || ev.kind !== "append" || (ev.origin === undefined && ev.flags !== undefined)) return;
      void (async () => {
        const mb = await core.store.getMailboxById(ev.mailboxId);
        if (!mb || isTrash(mb)) return;
        for (const m of await core.store.messages(mb.id, { uids: ev.uids })) {
          if (isJunk(mb)) await learn("spam", m);
          else if (learnedSpam.has(m.blobId) || m.flags.includes("$Junk")) await learn("ham", m);
        }
      })().catch((err) => log.warn("rspamd learn failed", { err: (err as Error)?.message ?? String(err) }));
    });
    return off;
  },
});
