// The sessions-by-account registry: a change reaches its account's sessions only, server
// METADATA (account 0) every session, an account gone ends its sessions; nothing stays
// behind once the sessions leave.
import { expect, test } from "bun:test";
import type { AccountGone, StoreChange } from "../../core/store/types.ts";
import { type ImapEvent, ImapEvents } from "./events.ts";
import type { Session } from "./session.ts";
import { Sessions } from "./sessions.ts";

function fakeStore() {
  const change = new Set<(ev: StoreChange) => void>();
  const gone = new Set<(ev: AccountGone) => void>();
  return {
    onChange: (cb: (ev: StoreChange) => void) => (change.add(cb), () => change.delete(cb)),
    onAccountGone: (cb: (ev: AccountGone) => void) => (gone.add(cb), () => gone.delete(cb)),
    change: (ev: StoreChange) => change.forEach((cb) => cb(ev)),
    gone: (ev: AccountGone) => gone.forEach((cb) => cb(ev)),
    listeners: () => change.size + gone.size,
  };
}

function fakeSession(name: string, log: string[]): Session {
  return {
    onStoreChange: (ev: StoreChange) => log.push(`${name} change ${ev.accountId}`),
    onImapEvent: (ev: ImapEvent) => log.push(`${name} event ${ev.accountId}`),
    bye: (text: string) => log.push(`${name} bye ${text}`),
  } as unknown as Session;
}

test("routing by account, account 0 to all, gone ends the account's sessions, nothing left after", () => {
  const store = fakeStore();
  const events = new ImapEvents();
  const sessions = new Sessions(store as never, events);
  const log: string[] = [];
  const a1 = fakeSession("a1", log);
  const a2 = fakeSession("a2", log);
  const b1 = fakeSession("b1", log);
  sessions.add(1, a1);
  sessions.add(1, a2);
  sessions.add(2, b1);
  store.change({ accountId: 2 } as StoreChange);
  expect(log.splice(0)).toEqual(["b1 change 2"]);
  events.emit({ kind: "metadata", accountId: 0, mailboxId: 0, entries: [], origin: "x" });
  expect(log.splice(0).sort()).toEqual(["a1 event 0", "a2 event 0", "b1 event 0"]);
  events.emit({ kind: "subscription", accountId: 1, name: "x", subscribed: true, origin: "x" });
  expect(log.splice(0)).toEqual(["a1 event 1", "a2 event 1"]);
  store.gone({ accountId: 1, reason: "disabled" } as AccountGone);
  expect(log.splice(0)).toEqual(["a1 bye Account disabled", "a2 bye Account disabled"]);
  sessions.delete(1, a1);
  sessions.delete(1, a2);
  sessions.delete(2, b1);
  sessions.delete(2, b1); // twice: no harm
  store.change({ accountId: 1 } as StoreChange);
  store.change({ accountId: 2 } as StoreChange);
  expect(log).toEqual([]);
  expect((sessions as unknown as { byAccount: Map<number, unknown> }).byAccount.size).toBe(0);
  sessions.close();
  expect(store.listeners()).toBe(0);
});
