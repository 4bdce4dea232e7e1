// The ratelimit plugin's admin methods (Plugin.admin, `kotakpos ratelimit …`): the accounts
// held after a burst with their held outbound mail, and their release. In the running
// server they also update the plugin's in-memory state (`live`); on a database opened
// directly (no server) they change the tables, which the next start reads.
import type { Db } from "../../core/db/open.ts";
import type { QueueEntry } from "../../core/spool/types.ts";
import type { Core } from "../../core/types.ts";
import { clearCountRows, dropFlagRows, heldFlags, sendersOf, type RateState } from "./state.ts";

/** The state of the plugin running in this process, by its database. */
export const live = new WeakMap<Db, RateState>();

export interface HeldAccount {
  address: string;
  accountId: number;
  /** When submissions resume by themselves; null: until released. */
  until: number | null;
  reason: string;
  ip: string;
  at: number;
  /** Its outbound messages held in the spool. */
  messages: QueueEntry[];
}

export interface Released {
  address: string;
  /** False: the account was not held (its held mail, if any, is released anyway). */
  wasHeld: boolean;
  /** Spool rows released (due now). */
  rows: number;
}

function parseNote(note: string): { address?: string; reason?: string; ip?: string; at?: number } {
  try {
    return JSON.parse(note) as { address?: string; reason?: string; ip?: string; at?: number };
  } catch {
    return {};
  }
}

export function ratelimitAdmin(core: Core) {
  const heldMail = async (accountId: number, queue: QueueEntry[]): Promise<QueueEntry[]> => {
    const from = new Set(await sendersOf(core.db, accountId));
    return queue.filter((e) => e.status === "held" && from.has(e.mailFrom.toLowerCase()));
  };
  return {
    /** Accounts held after a burst, each with its held outbound mail. */
    async held(): Promise<HeldAccount[]> {
      await live.get(core.db)?.flush();
      const queue = await core.spool.list();
      const out: HeldAccount[] = [];
      for (const f of await heldFlags(core.db)) {
        const accountId = Number(f.key.slice("held:".length));
        const n = parseNote(f.note);
        const address = n.address ?? (await core.store.getAccountById(accountId))?.address ?? `#${accountId}`;
        out.push({ address, accountId, until: f.until >= Number.MAX_SAFE_INTEGER ? null : f.until, reason: n.reason ?? "", ip: n.ip ?? "", at: n.at ?? 0, messages: await heldMail(accountId, queue) });
      }
      return out;
    },
    /** Ends the account's hold: submissions accepted again, its held mail due now, the
     *  burst count restarted (else the next new recipient would hold it again). */
    async release(address: string): Promise<Released | null> {
      const acct = await core.store.getAccount(address);
      if (!acct) return null;
      const key = `held:${acct.id}`;
      const state = live.get(core.db);
      await state?.flush();
      const wasHeld = (await heldFlags(core.db)).some((f) => f.key === key);
      if (state) {
        state.dropFlag(key);
        state.clear(`n:a:${acct.id}`);
        await state.flush();
      } else {
        await dropFlagRows(core.db, [key]);
        await clearCountRows(core.db, `n:a:${acct.id}`);
      }
      const ids = [...new Set((await heldMail(acct.id, await core.spool.list())).map((e) => e.id))];
      const rows = await core.spool.release(ids);
      core.log.info("ratelimit: account released", { user: acct.address, rows });
      return { address: acct.address, wasHeld, rows };
    },
  };
}

export type RatelimitAdmin = ReturnType<typeof ratelimitAdmin>;
