// RFC 9051 §6.3.4 CREATE (superior names created too), with CREATE-SPECIAL-USE (RFC 6154 §3).
import { isStoreError } from "../../../core/store/errors.ts";
import { isDiskFull } from "../../../core/disk.ts";
import { AUTHED, no, ok, type CommandSpec } from "../command.ts";
import { DELIM, canonicalName, validName, fromWire } from "../names.ts";
import { ParseError } from "../parser.ts";
import { removeOrphanSubscription } from "../subscriptions.ts";

export const SPECIAL_USES = ["\\All", "\\Archive", "\\Drafts", "\\Flagged", "\\Junk", "\\Sent", "\\Trash"];

export const create: CommandSpec = {
  name: "CREATE",
  states: AUTHED,
  async run(s, c) {
    let name = canonicalName(fromWire(s, c.args.astring()));
    let use: string | null = null;
    if (c.args.isList()) {
      const l = c.args.list();
      while (!l.done()) {
        const p = l.atom().toUpperCase();
        if (p !== "USE") throw new ParseError(`Unknown CREATE parameter ${p}`);
        const u = l.list();
        while (!u.done()) {
          const a = u.atom();
          const known = SPECIAL_USES.find((x) => x.toLowerCase() === a.toLowerCase());
          if (!known) return no("Unsupported special-use attribute", "USEATTR");
          if (use) return no("Only one special-use attribute per mailbox", "USEATTR");
          use = known;
        }
      }
    }
    c.args.end();
    // §6.3.4: a trailing delimiter only says the client means to create children.
    if (name.endsWith(DELIM)) name = name.slice(0, -1);
    if (!validName(name)) return no("Invalid mailbox name", "CANNOT");
    if (name === "INBOX") return no("INBOX always exists", "ALREADYEXISTS");
    const store = s.core.store;
    if (await store.getMailbox(s.accountId, name)) return no("Mailbox exists", "ALREADYEXISTS");
    const parts = name.split(DELIM);
    const made: string[] = [];
    try {
      for (let i = 1; i < parts.length; i++) {
        const parent = canonicalName(parts.slice(0, i).join(DELIM));
        if (!(await store.getMailbox(s.accountId, parent))) made.push((await store.createMailbox(s.accountId, parent)).name);
      }
      made.push((await store.createMailbox(s.accountId, name, use)).name);
      // RFC 9051 §6.3.4: CREATE does not subscribe (the store's default is subscribed);
      // a name subscribed before it existed is subscribed now.
      for (const n of made) if (!(await removeOrphanSubscription(s.core.db, s.accountId, n))) await store.setSubscribed(s.accountId, n, false);
    } catch (e) {
      // Store errors and a full disk have their own response codes (session.ts).
      if (isStoreError(e) || isDiskFull(e)) throw e;
      s.conn.log.info("imap create failed", { err: String(e) });
      return no("Cannot create mailbox", "CANNOT");
    }
    return ok("CREATE completed");
  },
};
