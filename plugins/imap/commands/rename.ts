// RFC 9051 §6.3.6 RENAME (children move along; renaming INBOX moves its messages).
import { isStoreError } from "../../../core/store/errors.ts";
import { isDiskFull } from "../../../core/disk.ts";
import { AUTHED, no, ok, type CommandSpec } from "../command.ts";
import { DELIM, canonicalName, validName, fromWire } from "../names.ts";

export const rename: CommandSpec = {
  name: "RENAME",
  states: AUTHED,
  async run(s, c) {
    const from = canonicalName(fromWire(s, c.args.astring()));
    let to = canonicalName(fromWire(s, c.args.astring()));
    c.args.end();
    if (to.endsWith(DELIM)) to = to.slice(0, -1);
    if (!validName(to)) return no("Invalid mailbox name", "CANNOT");
    const store = s.core.store;
    const src = await store.getMailbox(s.accountId, from);
    if (!src) return no("No such mailbox", "NONEXISTENT");
    if (to === "INBOX" || (await store.getMailbox(s.accountId, to))) return no("Target exists", "ALREADYEXISTS");
    if (to.startsWith(src.name + DELIM)) return no("Cannot move a mailbox into itself", "CANNOT");
    try {
      const parts = to.split(DELIM);
      for (let i = 1; i < parts.length; i++) {
        const parent = canonicalName(parts.slice(0, i).join(DELIM));
        if (!(await store.getMailbox(s.accountId, parent))) await store.createMailbox(s.accountId, parent);
      }
      await store.renameMailbox(s.accountId, src.name, to);
    } catch (e) {
      // Store errors and a full disk have their own response codes (session.ts).
      if (isStoreError(e) || isDiskFull(e)) throw e;
      s.conn.log.info("imap rename failed", { err: String(e) });
      return no("Cannot rename mailbox", "CANNOT");
    }
    return ok("RENAME completed");
  },
};
