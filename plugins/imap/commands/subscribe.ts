// RFC 9051 §6.3.7 SUBSCRIBE and §6.3.8 UNSUBSCRIBE: a flag on existing mailboxes, a row in
// subscriptions.ts for names without one.
import { AUTHED, no, ok, type CommandSpec, type Ctx } from "../command.ts";
import { canonicalName, validName, fromWire } from "../names.ts";
import { addOrphanSubscription, removeOrphanSubscription } from "../subscriptions.ts";
import type { Session } from "../session.ts";

async function setSub(s: Session, c: Ctx, on: boolean) {
  const name = canonicalName(fromWire(s, c.args.astring()));
  c.args.end();
  const mb = await s.core.store.getMailbox(s.accountId, name);
  if (!mb) {
    if (!on) await removeOrphanSubscription(s.core.db, s.accountId, name);
    else if (!validName(name)) return no("Invalid mailbox name", "CANNOT");
    else await addOrphanSubscription(s.core.db, s.accountId, name);
    return ok(`${c.name} completed`);
  }
  await s.core.store.setSubscribed(s.accountId, mb.name, on);
  return ok(`${c.name} completed`);
}

export const subscribe: CommandSpec = { name: "SUBSCRIBE", states: AUTHED, run: (s, c) => setSub(s, c, true) };
export const unsubscribe: CommandSpec = { name: "UNSUBSCRIBE", states: AUTHED, run: (s, c) => setSub(s, c, false) };
