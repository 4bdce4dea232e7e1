// Training from what the user does (store change events, DESIGN.md): a message copied or
// moved into Junk, or given the $Junk keyword, is learned as spam; one taken out of Junk
// (to anywhere but Trash) or given $NotJunk is learned as ham, and so is a message the
// user reads (\Seen newly set) outside Junk and Trash: without ham to compare, every ordinary
// token would soon look like spam. A message learned the
// other way before is unlearned first, so moving back and forth never double counts.
import type { Logger } from "../../core/types.ts";
import type { Mailbox, MessageMeta, Store, StoreChange } from "../../core/store/types.ts";
import type { ModelStore } from "./model-store.ts";
import { tokenize } from "./tokenize.ts";
import { dmarcPassFrom, reputationKey } from "./reputation.ts";

/** Origin of our own keyword changes: their events are not user actions. */
export const JUNK_ORIGIN = "junk-filter";

export function isJunkMailbox(mb: Pick<Mailbox, "name" | "specialUse">): boolean {
  return mb.specialUse === "\\Junk" || mb.name.toLowerCase() === "junk";
}

function isTrash(mb: Pick<Mailbox, "name" | "specialUse">): boolean {
  return mb.specialUse === "\\Trash" || mb.name.toLowerCase() === "trash";
}

/** Whether message i of a "flags" change was just read: \Seen among the flags it gained
 *  (an event without `added` — older producers — counts \Seen being set at all). */
function newlySeen(ev: StoreChange, i: number): boolean {
  return (ev.added ? ev.added[i] : ev.flags?.[i])?.includes("\\Seen") ?? false;
}

/** Whether message i of a "flags" change can teach anything (see onFlags). */
function mayTeach(ev: StoreChange, i: number): boolean {
  const f = ev.flags?.[i];
  return !!f && (f.includes("$Junk") || f.includes("$NotJunk") || newlySeen(ev, i));
}

export interface Trainer {
  handle(ev: StoreChange): Promise<void>;
  /** At shutdown: queued training is dropped (the database is closing). */
  close(): void;
  /** Learns one stored message as spam or ham (the rspamd plugin's peer: webmail, JMAP). */
  learn(accountId: number, msg: MessageMeta, kind: "spam" | "ham"): Promise<void>;
}

export function createTrainer(store: Store, models: ModelStore, log: Logger, hostname: string): Trainer {
  let closed = false;
  async function learn(accountId: number, msg: MessageMeta, kind: "spam" | "ham"): Promise<boolean> {
    const state = await models.state(accountId, msg.blobId);
    if (state === kind) return false;
    const raw = await store.read(msg);
    const tokens = tokenize(raw);
    const sender = dmarcPassFrom(raw, hostname);
    if (state === "spam" || state === "ham") {
      await models.learn(accountId, tokens, state, -1);
      if (sender) await models.bumpSender(accountId, reputationKey(sender), state, -1);
    }
    await models.learn(accountId, tokens, kind, 1);
    if (sender) await models.bumpSender(accountId, reputationKey(sender), kind, 1);
    await models.setState(accountId, msg.blobId, kind);
    log.info("junk filter learned", { account: accountId, as: kind, uid: msg.uid, unlearned: state === "spam" || state === "ham" ? state : undefined });
    return true;
  }

  /** The keyword that shows what was learned ($Junk / $NotJunk, RFC 5788 registry). */
  async function mark(mailboxId: number, uids: number[], kind: "spam" | "ham"): Promise<void> {
    if (uids.length === 0) return;
    const [add, remove] = kind === "spam" ? ["$Junk", "$NotJunk"] : ["$NotJunk", "$Junk"];
    await store.setFlags(mailboxId, uids, "remove", [remove], { origin: JUNK_ORIGIN });
    await store.setFlags(mailboxId, uids, "add", [add], { origin: JUNK_ORIGIN });
  }

  async function onAppend(ev: StoreChange, mb: Mailbox): Promise<void> {
    if (isTrash(mb)) return;
    const kind = isJunkMailbox(mb) ? "spam" : "ham";
    // A client's APPEND (its flags are in the event) is a move out of Junk only when it
    // carries $Junk (what the filter marks everything filed or learned as spam with):
    // ordinary APPENDs (sent copies, drafts) cost no lookups.
    if (kind === "ham" && ev.flags && !ev.flags.some((f) => f.includes("$Junk"))) return;
    const learned: number[] = [];
    for (const m of await store.messages(mb.id, { uids: ev.uids })) {
      // Out of Junk means "not spam" only for what was in Junk: filed there at delivery
      // (it carries $Junk, which a copy keeps) or learned as spam.
      if (kind === "ham" && !m.flags.includes("$Junk") && (await models.state(mb.accountId, m.blobId)) !== "spam") continue;
      await learn(mb.accountId, m, kind);
      learned.push(m.uid);
    }
    await mark(mb.id, learned, kind);
  }

  async function onFlags(ev: StoreChange, mb: Mailbox): Promise<void> {
    const want = new Map<number, "spam" | "ham">();
    const inJunk = isJunkMailbox(mb);
    const readHam = !inJunk && !isTrash(mb);
    const seenOnly = new Set<number>();
    ev.uids.forEach((uid, i) => {
      const f = ev.flags?.[i];
      if (!f) return;
      // In Junk, $Junk says nothing new (moves in are learned when they arrive).
      if (f.includes("$Junk") && !f.includes("$NotJunk")) {
        if (!inJunk) want.set(uid, "spam");
      } else if (f.includes("$NotJunk") && !f.includes("$Junk")) want.set(uid, "ham");
      else if (readHam && newlySeen(ev, i)) {
        want.set(uid, "ham");
        seenOnly.add(uid);
      }
    });
    if (want.size === 0) return;
    for (const m of await store.messages(mb.id, { uids: [...want.keys()] })) {
      const kind = want.get(m.uid)!;
      const s = await models.state(mb.accountId, m.blobId);
      // Reading a message learns it as ham only the first time (never overriding a verdict).
      if (s === kind || (seenOnly.has(m.uid) && s !== null)) continue;
      await learn(mb.accountId, m, kind);
    }
  }

  return {
    async handle(ev) {
      if (closed || ev.origin === JUNK_ORIGIN || (ev.kind !== "append" && ev.kind !== "flags")) return;
      // Most flag changes (\Flagged, \Deleted, a re-read) teach nothing: no lookups for them.
      if (ev.kind === "flags" && !ev.uids.some((_, i) => mayTeach(ev, i))) return;
      // Deliveries (no origin, with flags) are not training; a later move out of Junk
      // is, and finds the $Junk keyword that everything filed into Junk carries.
      if (ev.kind === "append" && ev.origin === undefined && ev.flags !== undefined) return;
      await models.serial(ev.accountId, async () => {
        if (closed) return;
        const mb = await store.getMailboxById(ev.mailboxId);
        if (!mb) return;
        if (ev.kind === "append") await onAppend(ev, mb);
        else await onFlags(ev, mb);
      });
    },
    close() {
      closed = true;
    },
    async learn(accountId, msg, kind) {
      await models.serial(accountId, () => learn(accountId, msg, kind));
    },
  };
}
