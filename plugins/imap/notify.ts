// NOTIFY (RFC 5465): the client names mailboxes and events; changes to mailboxes other
// than the selected one are told without polling — STATUS for message events (§5.1-5.3),
// LIST for created, deleted and renamed mailboxes (§5.4) and subscription changes (§5.5),
// METADATA (entry names only, RFC 5464 §4.4.2) for mailbox and server annotations
// (§5.6-5.7) — as they happen when no command is running (batched briefly), else before
// the next tagged response. Sessions without NOTIFY pay one null check per store event.
import type { Mailbox, StoreChange } from "../../core/store/types.ts";
import { astr } from "./format.ts";
import { DELIM } from "./names.ts";
import { ParseError, type Args } from "./parser.ts";
import type { Session } from "./session.ts";
import type { ImapEvent } from "./events.ts";

type Filter = { k: "selected" } | { k: "inboxes" } | { k: "personal" } | { k: "subscribed" } | { k: "subtree"; names: string[] } | { k: "mailboxes"; names: string[] };

/** The events we report (AnnotationChange is not: there are no message annotations). */
const MESSAGE_EVENTS = ["MESSAGENEW", "MESSAGEEXPUNGE", "FLAGCHANGE"];
const MAILBOX_EVENTS = ["MAILBOXNAME", "SUBSCRIPTIONCHANGE", "MAILBOXMETADATACHANGE", "SERVERMETADATACHANGE"];
export const SUPPORTED_EVENTS = "MessageNew MessageExpunge FlagChange MailboxName SubscriptionChange MailboxMetadataChange ServerMetadataChange";
const EVENT_OF = { append: "MESSAGENEW", expunge: "MESSAGEEXPUNGE", flags: "FLAGCHANGE" } as const;

export interface NotifySpec {
  groups: { filter: Filter; events: Set<string> }[];
}

export class NotifyState {
  /** Mailboxes with message events not yet told: id → the events. */
  pendingStatus = new Map<number, Set<string>>();
  /** A mailbox was created, deleted, renamed or (un)subscribed: compare with what was told. */
  namesChanged = false;
  /** Names by id as last told (for MailboxName). */
  names = new Map<number, string>();
  /** Subscribed or not, by id, as last told (SubscriptionChange). */
  subs = new Map<number, boolean>();
  /** Subscriptions to names without a mailbox (IMAP's own table): name → subscribed. */
  pendingSubs = new Map<string, boolean>();
  /** METADATA entries changed: mailbox id (0: the server) → entry names. */
  pendingMeta = new Map<number, Set<string>>();
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

/** The events asked for a mailbox: the first group that matches it decides (§6). SELECTED
 *  groups carry message events only (§6.1), so they never decide mailbox events. */
export function eventsFor(spec: NotifySpec, mb: Mailbox, selectedId: number | null, mailboxEvent = false): Set<string> | null {
  for (const g of spec.groups) {
    if (mailboxEvent && g.filter.k === "selected") continue;
    if (matches(g.filter, mb, selectedId)) return g.events;
  }
  return null;
}

/** Anything waiting to be told. */
export function pendingNotify(n: NotifyState): boolean {
  return n.pendingStatus.size > 0 || n.namesChanged || n.pendingSubs.size > 0 || n.pendingMeta.size > 0;
}

/** The mailbox list as told: names (MailboxName) and subscriptions (SubscriptionChange). */
export function rememberMailboxes(n: NotifyState, mbs: Mailbox[]): void {
  n.names = new Map(mbs.map((m) => [m.id, m.name]));
  n.subs = new Map(mbs.map((m) => [m.id, m.subscribed]));
}

/** Called from the session's listener of IMAP-only changes (events.ts). */
export function noteImapEvent(s: Session, n: NotifyState, ev: ImapEvent): void {
  if (ev.kind === "subscription") n.pendingSubs.set(ev.name, ev.subscribed);
  else {
    let entries = n.pendingMeta.get(ev.mailboxId);
    if (!entries) n.pendingMeta.set(ev.mailboxId, (entries = new Set()));
    for (const e of ev.entries) entries.add(e);
  }
  if (!n.timer) n.timer = setTimeout(() => void s.flushNotifyIfIdle(), 50);
}

/** A mailbox-shaped stand-in for a name with no mailbox (filters match by name). */
function nameOnly(s: Session, name: string): Mailbox {
  return {
    id: -1,
    accountId: s.accountId,
    name,
    specialUse: null,
    uidvalidity: 0,
    uidnext: 0,
    highestModseq: 0,
    messages: 0,
    unseen: 0,
    size: 0,
    subscribed: true,
    createdModseq: 0,
    changedModseq: 0,
  };
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

/** LIST for name and subscription changes, METADATA for entries, STATUS for the
 *  mailboxes with message events. */
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
      if (old !== mb.name && eventsFor(n.spec, mb, selectedId, true)?.has("MAILBOXNAME")) {
        // §5.4: a new mailbox is a LIST; a renamed one a LIST with OLDNAME.
        const ext = old === undefined ? "" : ` ("OLDNAME" (${astr(s.wireName(old), s.utf8)}))`;
        s.send(`* LIST () "${DELIM}" ${astr(s.wireName(mb.name), s.utf8)}${ext}`);
      }
      // §5.5: a LIST with \Subscribed when it is subscribed now, without when it is not.
      const wasSub = n.subs.get(mb.id);
      if (old !== undefined && wasSub !== undefined && wasSub !== mb.subscribed && eventsFor(n.spec, { ...mb, subscribed: true }, selectedId, true)?.has("SUBSCRIPTIONCHANGE")) {
        s.send(`* LIST (${mb.subscribed ? "\\Subscribed" : ""}) "${DELIM}" ${astr(s.wireName(mb.name), s.utf8)}`);
      }
    }
    for (const [id, name] of n.names) {
      if (byId.has(id)) continue;
      const gone = { ...nameOnly(s, name), id, subscribed: false };
      if (eventsFor(n.spec, gone, selectedId, true)?.has("MAILBOXNAME")) s.send(`* LIST (\\NonExistent) "${DELIM}" ${astr(s.wireName(name), s.utf8)}`);
    }
    rememberMailboxes(n, now);
  }
  // §5.5 for names with no mailbox (RFC 5258 §3.1: \NonExistent).
  const subs = [...n.pendingSubs];
  n.pendingSubs.clear();
  for (const [name, on] of subs) {
    if (!eventsFor(n.spec, nameOnly(s, name), selectedId, true)?.has("SUBSCRIPTIONCHANGE")) continue;
    s.send(`* LIST (\\NonExistent${on ? " \\Subscribed" : ""}) "${DELIM}" ${astr(s.wireName(name), s.utf8)}`);
  }
  // §5.6 MailboxMetadataChange, §5.7 ServerMetadataChange: the entry names, no values
  // (RFC 5464 §4.4.2); the client GETMETADATAs what it wants.
  const meta = [...n.pendingMeta];
  n.pendingMeta.clear();
  for (const [id, entries] of meta) {
    let wire: string;
    if (id === 0) {
      if (!n.spec.groups.some((g) => g.events.has("SERVERMETADATACHANGE"))) continue;
      wire = '""';
    } else {
      const mb = await s.core.store.getMailboxById(id);
      if (!mb || mb.accountId !== s.accountId || !eventsFor(n.spec, mb, selectedId, true)?.has("MAILBOXMETADATACHANGE")) continue;
      wire = astr(s.wireName(mb.name), s.utf8);
    }
    s.send(
      `* METADATA ${wire} ${[...entries]
        .sort()
        .map((e) => astr(e, s.utf8))
        .join(" ")}`,
    );
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
