// Default handlers the core registers behind every plugin's: local recipient lookup
// (`route`) and the submission sender check (`smtp.sendas`).
import type { Store } from "./store/types.ts";
import type { Hooks } from "./types.ts";

export function registerDefaultRouting(hooks: Hooks, store: Store): void {
  hooks.on(
    "route",
    async (_txn, rcpt) => {
      if (!(await store.isLocalDomain(rcpt.domain))) return { kind: "route", local: [], remote: [{ address: rcpt.address }] };
      const acct = await store.getAccount(`${rcpt.local}@${rcpt.domain}`);
      if (!acct || acct.disabled) return { kind: "reject", reply: { code: 550, enhanced: "5.1.1", text: "No such user here" } };
      return { kind: "route", local: [{ accountId: acct.id, mailbox: "INBOX" }], remote: [] };
    },
    { plugin: "core", last: true },
  );
  // RFC 9208 §4.3 / RFC 3463 4.2.2: a local recipient at its quota is refused for now (452),
  // before the message is accepted, so nothing accepted is lost to the quota.
  hooks.on(
    "smtp.rcpt",
    async (_txn, _rcpt, route) => {
      for (const t of route.local) {
        if (await store.atQuota(t.accountId)) return { kind: "defer", reply: { code: 452, enhanced: "4.2.2", text: "Mailbox full" } };
      }
      return { kind: "pass" };
    },
    { plugin: "core" },
  );
  // Own address only; the aliases plugin accepts addresses granted to the user.
  hooks.on("smtp.sendas", (user, address) => (address.toLowerCase() === user.address.toLowerCase() ? { kind: "accept" } : { kind: "pass" }), { plugin: "core", last: true });
}
