// NOTIFY (RFC 5465): the client names mailboxes and events; changes to mailboxes other
// than the selected one are told without polling — STATUS for message events (§5.1-5.3),
// LIST for created, deleted and renamed mailboxes (§5.4) and subscription changes (§5.5) —
// as they happen when no command is running (batched briefly), else before the next
// tagged response. Sessions without NOTIFY pay one null check per store event.
import type { Mailbox, StoreChange } from "../../core/store/types.ts";
import { astr } from "./format.ts";
import { DELIM } from "./names.ts";
import { ParseError, type Args } from "./parser.ts";
import type { Session } from "./session.ts";

type Filter = { k: "selected" } | { k: "inboxes" } | { k: "personal" } | { k: "subscribed" } | { k: "subtree"; names: string[] } | { k: "mailboxes"; names: string[] };

/** The events we report (SubscriptionChange and the metadata events are not: BADEVENT). */
const MESSAGE_EVENTS = ["MESSAGENEW", "MESSAGEEXPUNGE", "FLAGCHANGE"];
const MAILBOX_EVENTS = ["MAILBOXNAME"];
const EVENT_OF = { append: "MESSAGENEW", expunge: "MESSAGEEXPUNGE", flags: "FLAGCHANGE" } as const;

export interface NotifySpec {
  groups: { filter: Filter; events: Set<string> }[];
}

export class NotifyState {
  /** Mailboxes with message events not yet told: id → the events. */
  pendingStatus = new Map<number, Set<string>>();
  /** A mailbox was created, deleted or renamed: compare names. */
  namesChanged = false;
  /** Names by id as last told (for MailboxName). */
  names = new Map<number, string>();
  timer: ReturnType<typeof setTimeout> | null = null;
  constructor(readonly spec: NotifySpec) {}
}

/** "SET [STATUS] (filter (events)) …" or "NONE" after NOTIFY. */
export function parseNotify(a: Args, fromWire: (n: string) => string): { spec: NotifySpec | null; status: boolean; bad: string[] } {
  if (a.accept("NONE")) {
    a.end();
    return { spec: null, status: false, bad: [] };
  }
  if (!a.accept("SET")) throw new ParseError("NOTIFY SET or NOTIFY NONE");
  const status = a.accept("STATUS");
  const groups: NotifySpec["groups"] = [];
  const bad: string[] = [];
  while (!a.done()) {
    const g = a.list();
    const fw = g.atom().toUpperCase();
    let filter: Filter;
    if (fw === "SELECTED" || fw === "SELECTED-DELAYED") filter = { k: "selected" };
    else if (fw === "INBOXES") filter = { k: "inboxes" };
    else if (fw === "PERSONAL") filter = { k: "personal" };
    else if (fw === "SUBSCRIBED") filter = { k: "subscribed" };
    else if (fw === "SUBTREE" || fw === "MAILBOXES") {
      const names: string[] = [];
      if (g.isList()) {
        const l = g.list();
        while (!l.done()) names.push(fromWire(l.astring()));
      } else names.push(fromWire(g.astring()));
      filter = { k: fw === "SUBTREE" ? "subtree" : "mailboxes", names };
    } else throw new ParseError(`Unknown NOTIFY filter ${fw}`);
    const events = new Set<string>();
    if (g.accept("NONE")) {
      // no events for these mailboxes
    } else {
      const l = g.list();
      while (!l.done()) {
        const ev = l.atom().toUpperCase();
        // MessageNew may carry FETCH attributes (for the selected mailbox): accepted, the
        // normal EXISTS/FETCH flow tells the client.
        if (ev === "MESSAGENEW" && l.isList()) l.list();
        if (!MESSAGE_EVENTS.includes(ev) && !MAILBOX_EVENTS.includes(ev)) bad.push(ev);
        events.add(ev);
      }
      // §5: MessageNew and MessageExpunge go together; FlagChange needs both.
      if (events.has("MESSAGENEW") !== events.has("MESSAGEEXPUNGE")) throw new ParseError("MessageNew and MessageExpunge go together");
      if ((events.has("FLAGCHANGE") || events.has("ANNOTATIONCHANGE")) && !events.has("MESSAGENEW")) throw new ParseError("FlagChange needs MessageNew and MessageExpunge");
    }
    groups.push({ filter, events });
  }
  if (groups.length === 0) throw new ParseError("NOTIFY SET needs an event group");
  return { spec: { groups }, status, bad };
}

function matches(f: Filter, mb: Mailbox, selectedId: number | null): boolean {
  switch (f.k) {
    case "selected":
      return mb.id === selectedId;
    case "inboxes":
      return mb.name === "INBOX";
    case "personal":
      return true;
    case "subscribed":
      return mb.subscribed;
    case "mailboxes":
      return f.names.includes(mb.name);
    case "subtree":
      return f.names.some((n) => mb.name === n || mb.name.startsWith(n + DELIM));
  }
}

/** The events asked for a mailbox: the first group that matches it decides (§6). */
export function eventsFor(spec: NotifySpec, mb: Mailbox, selectedId: number | null): Set<string> | null {
  for (const g of spec.groups) if (matches(g.filter, mb, selectedId)) return g.events;
  return null;
}

/** Called from the session's store listener for events of its account. */
export function noteChange(s: Session, n: NotifyState, ev: StoreChange): void {
  if (ev.kind === "mailbox") n.namesChanged = true;
  else if (ev.mailboxId !== s.selected?.id) {
    let kinds = n.pendingStatus.get(ev.mailboxId);
    if (!kinds) n.pendingStatus.set(ev.mailboxId, (kinds = new Set()));
    kinds.add(EVENT_OF[ev.kind]);
  } else return;
  if (!n.timer) n.timer = setTimeout(() => void s.flushNotifyIfIdle(), 50);
}

/** STATUS for the mailboxes with message events, LIST for name changes. */
export async function flushNotify(s: Session, n: NotifyState): Promise<void> {
  if (n.timer) clearTimeout(n.timer);
  n.timer = null;
  const selectedId = s.selected?.id ?? null;
  if (n.namesChanged) {
    n.namesChanged = false;
    const now = await s.core.store.listMailboxes(s.accountId);
    const byId = new Map(now.map((m) => [m.id, m]));
    for (const mb of now) {
      const old = n.names.get(mb.id);
      if (old === mb.name) continue;
      if (!eventsFor(n.spec, mb, selectedId)?.has("MAILBOXNAME")) continue;
      // §5.4: a new mailbox is a LIST; a renamed one a LIST with OLDNAME (RFC 5465 §5.4).
      const ext = old === undefined ? "" : ` ("OLDNAME" (${astr(s.wireName(old), s.utf8)}))`;
      s.send(`* LIST () "${DELIM}" ${astr(s.wireName(mb.name), s.utf8)}${ext}`);
    }
    for (const [id, name] of n.names) {
      if (byId.has(id)) continue;
      const gone: Mailbox = { id, accountId: s.accountId, name, specialUse: null, uidvalidity: 0, uidnext: 0, highestModseq: 0, messages: 0, unseen: 0, size: 0, subscribed: false, createdModseq: 0, changedModseq: 0 };
      if (eventsFor(n.spec, gone, selectedId)?.has("MAILBOXNAME")) s.send(`* LIST (\\NonExistent) "${DELIM}" ${astr(s.wireName(name), s.utf8)}`);
    }
    n.names = new Map(now.map((m) => [m.id, m.name]));
  }
  const pending = [...n.pendingStatus];
  n.pendingStatus.clear();
  for (const [id, kinds] of pending) {
    if (id === selectedId) continue;
    const mb = await s.core.store.getMailboxById(id);
    if (!mb || mb.accountId !== s.accountId) continue;
    const ev = eventsFor(n.spec, mb, selectedId);
    if (!ev || ![...kinds].some((k) => ev.has(k))) continue;
    s.send(statusLine(s, mb));
  }
}

export function statusLine(s: Session, mb: Mailbox): string {
  return `* STATUS ${astr(s.wireName(mb.name), s.utf8)} (MESSAGES ${mb.messages} UIDNEXT ${mb.uidnext} UNSEEN ${mb.unseen}${s.condstore ? ` HIGHESTMODSEQ ${mb.highestModseq}` : ""})`;
}
