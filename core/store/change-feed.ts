// Changes made by other instances on the same libSQL server (DESIGN.md "Several
// instances"): store events are in-process, so an instance following the others polls
// the accounts' modseq (one small query per interval) and, for an account whose modseq
// moved past what it knows, reads what changed — messages and tombstones above the old
// modseq, mailboxes created, renamed or destroyed — and emits the same StoreChange events
// its own writes would have, marked `remote`. IMAP IDLE/NOTIFY, POP3 and JMAP push then
// see mail accepted elsewhere; side effects (training, auto-replies) ignore `remote`.
// A row keeps only its last modseq: a remote change to a message that our own write then
// touched is not replayed, but our own event carries the row's whole current flags (and
// a UID a session does not know makes it look again), so no state is lost.
import type { Row } from "@libsql/client";
import { formatFlags } from "./flags.ts";
import { read, type StoreCtx } from "./ctx.ts";
import type { AccountGone, StoreChange } from "./types.ts";

export interface ChangeFeed {
  /** One round now (tests, and the timer). */
  poll(): Promise<void>;
  stop(): void;
}

/** Forget own modseqs after this long unseen (a rolled-back write's number). */
const OWN_TTL_MS = 10 * 60_000;

export function startChangeFeed(ctx: StoreCtx, intervalMs: number): ChangeFeed {
  /** Account modseq this instance has caught up to. */
  const known = new Map<number, number>();
  /** Accounts seen enabled, by id (their address): one disabled or deleted elsewhere ends
   *  its sessions here too (AccountGone; a repeat of our own is harmless: none are left). */
  const enabled = new Map<number, string>();
  // The modseqs taken by our own writes (their events are ours already): recorded when
  // the event is queued, before the commit, so a poll racing the commit skips them.
  const own = new Map<string, number>();
  ctx.own = (accountId, modseq) => {
    const key = `${accountId}:${modseq}`;
    own.set(key, Date.now());
    return () => own.delete(key);
  };
  let first = true;
  let running: Promise<void> | null = null;
  let stopped = false;

  const tell = <T>(listeners: Set<(ev: T) => void>, ev: T) => {
    for (const cb of listeners) {
      try {
        cb(ev);
      } catch (err) {
        ctx.log.error("store change listener failed", { err: (err as Error).message });
      }
    }
  };
  const emit = (ev: StoreChange) => tell(ctx.listeners, ev);

  async function account(accountId: number, from: number, to: number): Promise<StoreChange[]> {
    const args = [accountId, from, to];
    const [msgs, gone, boxes, dead] = await Promise.all([
      read(
        ctx,
        "SELECT m.mailbox_id, m.uid, m.modseq, m.created_modseq, m.flags, m.keywords FROM messages m JOIN mailboxes b ON b.id = m.mailbox_id WHERE b.account_id = ? AND m.modseq > ? AND m.modseq <= ? ORDER BY m.modseq, m.uid",
        args,
      ),
      read(
        ctx,
        "SELECT t.mailbox_id, t.uid, t.modseq FROM tombstones t JOIN mailboxes b ON b.id = t.mailbox_id WHERE b.account_id = ? AND t.modseq > ? AND t.modseq <= ? ORDER BY t.modseq, t.uid",
        args,
      ),
      read(
        ctx,
        "SELECT id, max(created_modseq, changed_modseq) AS modseq FROM mailboxes WHERE account_id = ? AND max(created_modseq, changed_modseq) > ? AND max(created_modseq, changed_modseq) <= ?",
        args,
      ),
      read(ctx, "SELECT object_id AS id, modseq FROM destroyed WHERE account_id = ? AND kind = 'mailbox' AND modseq > ? AND modseq <= ?", args),
    ]);
    const out = new Map<string, StoreChange>();
    const ev = (kind: StoreChange["kind"], r: Row, modseq = Number(r.modseq)): StoreChange | null => {
      if (own.has(`${accountId}:${modseq}`)) return null;
      const mailboxId = Number(r.mailbox_id ?? r.id);
      const key = `${kind}:${mailboxId}:${modseq}`;
      let e = out.get(key);
      if (!e) out.set(key, (e = { accountId, mailboxId, kind, uids: [], modseq, remote: true, ...(kind === "append" || kind === "flags" ? { flags: [] } : {}) }));
      return e;
    };
    for (const r of msgs.rows) {
      // New to the account since `from`: an append. A MOVE keeps the email's created
      // modseq, so its new UID comes as "flags", which sessions answer with a full look.
      const e = ev(Number(r.created_modseq) > from ? "append" : "flags", r);
      if (!e) continue;
      e.uids.push(Number(r.uid));
      e.flags!.push(formatFlags(Number(r.flags), JSON.parse(String(r.keywords)) as string[]));
    }
    for (const r of gone.rows) ev("expunge", r)?.uids.push(Number(r.uid));
    for (const r of [...boxes.rows, ...dead.rows]) ev("mailbox", r);
    return [...out.values()].sort((x, y) => x.modseq - y.modseq);
  }

  async function round(): Promise<void> {
    const rs = await read(ctx, "SELECT id, modseq, address, disabled FROM accounts");
    const events: StoreChange[] = [];
    const gone: AccountGone[] = [];
    const present = new Set<number>();
    for (const r of rs.rows) {
      const id = Number(r.id);
      present.add(id);
      if (!Number(r.disabled)) enabled.set(id, String(r.address));
      else if (enabled.has(id)) {
        gone.push({ accountId: id, address: enabled.get(id)!, reason: "disabled" });
        enabled.delete(id);
      }
    }
    for (const [id, address] of enabled) {
      if (present.has(id)) continue;
      enabled.delete(id);
      gone.push({ accountId: id, address, reason: "deleted" });
    }
    for (const g of gone) tell(ctx.accountListeners, g);
    for (const r of rs.rows) {
      const id = Number(r.id);
      const now = Number(r.modseq);
      const was = known.get(id);
      known.set(id, now);
      // The first round only learns where everyone is; a new account starts at its beginning.
      if (first || now <= (was ?? 1)) continue;
      try {
        events.push(...(await account(id, was ?? 1, now)));
      } catch (err) {
        known.set(id, was ?? 1);
        throw err;
      }
    }
    first = false;
    for (const e of events) emit(e);
    const old = Date.now() - OWN_TTL_MS;
    for (const [k, t] of own) if (t < old || (known.get(Number(k.slice(0, k.indexOf(":")))) ?? 0) >= Number(k.slice(k.indexOf(":") + 1))) own.delete(k);
  }

  const poll = (): Promise<void> => {
    running ??= round()
      .catch((err: Error) => ctx.log.warn("change feed: poll failed", { err: err.message }))
      .finally(() => (running = null));
    return running;
  };
  const timer = setInterval(() => {
    if (!stopped) void poll();
  }, intervalMs);
  timer.unref?.();
  void poll();
  return {
    poll,
    stop() {
      stopped = true;
      clearInterval(timer);
      ctx.own = undefined;
    },
  };
}
