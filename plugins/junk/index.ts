// The junk filter plugin (issue 22): a per-account Bayesian classifier on mail arriving
// on port 25, trained from the user's own moves into and out of Junk and the $Junk /
// $NotJunk keywords (store change events), starting from a small shared seed model.
// Mail from addresses the user has written to (recorded at submission) is not classified.
import { definePlugin, pass, type DataCheck, type IncomingMessage, type SmtpTxn } from "../../core/types.ts";
import { MemoryModel } from "./bayes.ts";
import { classify, toDataCheck } from "./classify.ts";
import { JunkConfig } from "./config.ts";
import { ModelStore } from "./model-store.ts";
import { createTrainer } from "./train.ts";

declare module "../../core/types.ts" {
  interface TxnState {
    /** Local accounts among the accepted recipients (from their routes). */
    junkAccounts?: number[];
  }
}

export default definePlugin({
  name: "junk",
  config: JunkConfig,
  async setup(core, cfg) {
    if (!cfg.enabled) return;
    const log = core.log.child({ plugin: "junk" });
    const models = new ModelStore(core.db, { othersWrite: () => core.store.othersWrite() });
    // The seed model (about 60 KB of JSON) is read at the first message checked, not at start.
    let seed: Promise<MemoryModel> | null = null;
    const seedModel = (): Promise<MemoryModel> => (seed ??= cfg.seed ? import("./seed.ts").then((m) => m.loadSeed()) : Promise.resolve(new MemoryModel()));
    const trainer = createTrainer(core.store, models, log, core.config.hostname);

    core.hooks.on(
      "smtp.rcpt",
      (txn, _rcpt, route) => {
        const list = (txn.state.junkAccounts ??= []);
        for (const l of route.local) if (!list.includes(l.accountId)) list.push(l.accountId);
        return pass;
      },
      { plugin: "junk" },
    );

    async function check(txn: SmtpTxn, msg: IncomingMessage): Promise<DataCheck> {
      if (txn.internal) return { kind: "check", verdict: pass };
      if (txn.user) {
        // Submission: the recipients join the sender's address book of correspondents.
        await models.addContacts(
          txn.user.accountId,
          txn.rcpts.filter((r) => r.domain).map((r) => `${r.local}@${r.domain}`),
        );
        return { kind: "check", verdict: pass };
      }
      const accounts = txn.state.junkAccounts ?? [];
      if (accounts.length === 0) return { kind: "check", verdict: pass };
      // The DMARC result of the mailauth check running beside us (TxnState.dmarc).
      const dmarc = await (txn.state.dmarc ?? Promise.resolve(null));
      const verdicts = await classify(accounts, txn, msg, models, await seedModel(), cfg.threshold, dmarc);
      for (const v of verdicts) if (v.junk) log.info("junk filter: to Junk", { txn: txn.id, account: v.accountId, score: v.prob?.toFixed(3) });
      return toDataCheck(verdicts);
    }

    core.hooks.on(
      "smtp.data",
      (txn, msg) => {
        const result = check(txn, msg);
        // Shared with the checks running beside this one (TxnState.junked).
        txn.state.junked = result.then(
          (c) => c.junk ?? [],
          () => [],
        );
        return result;
      },
      { plugin: "junk" },
    );

    const off = core.store.onChange((ev) => {
      // Another instance's change: that instance trains on it.
      if (ev.remote) return;
      trainer.handle(ev).catch((err) => log.error("junk training failed", { err: (err as Error)?.message ?? String(err) }));
    });
    return () => {
      off();
      trainer.close();
    };
  },
});
