// RFC 9051 §6.3.5 DELETE: INBOX cannot be deleted; children stay; so does a subscription.
import { isStoreError } from "../../../core/store/errors.ts";
import { isDiskFull } from "../../../core/disk.ts";
import { AUTHED, no, ok, type CommandSpec } from "../command.ts";
import { canonicalName, fromWire } from "../names.ts";
import { addOrphanSubscription } from "../subscriptions.ts";
import { dropMailboxEntries } from "../metadata.ts";

export const del: CommandSpec = {
  name: "DELETE",
  states: AUTHED,
  async run(s, c) {
    const name = canonicalName(fromWire(s, c.args.astring()));
    c.args.end();
    if (name === "INBOX") return no("INBOX cannot be deleted", "CANNOT");
    const mb = await s.core.store.getMailbox(s.accountId, name);
    if (!mb) return no("No such mailbox", "NONEXISTENT");
    if (s.selected?.id === mb.id) s.deselect();
    try {
      await s.core.store.deleteMailbox(s.accountId, mb.name);
      // The subscription stays (RFC 9051 §6.3.5): LIST shows it \NonExistent.
      if (mb.subscribed) await addOrphanSubscription(s.core.db, s.accountId, mb.name);
      await dropMailboxEntries(s.core.db, mb.id);
    } catch (e) {
      // Store errors and a full disk have their own response codes (session.ts).
      if (isStoreError(e) || isDiskFull(e)) throw e;
      s.conn.log.info("imap delete failed", { err: String(e) });
      return no("Cannot delete mailbox", "CANNOT");
    }
    return ok("DELETE completed");
  },
};
