// Per-account quota (RFC 9208 resources STORAGE in units of 1024 octets and MESSAGE), set by
// the admin. Usage is the sum over the account's mailboxes (their counters are kept in the
// same transactions as the messages, so it is exact and cheap). APPEND, COPY and imports
// (appendBatch) into an account at or over its limit fail with OVERQUOTA; SMTP delivery is
// refused at RCPT time (core/route.ts), so a message already accepted is never lost to the
// quota.
import type { Tx } from "../db/open.ts";
import { exec, read, type StoreCtx } from "./ctx.ts";
import { StoreError } from "./errors.ts";
import type { Quota, QuotaLimits, Store } from "./types.ts";

export type QuotaOps = Pick<Store, "getQuota" | "atQuota" | "setQuota">;

async function usage(q: (sql: string, args: unknown[]) => Promise<{ rows: Record<string, unknown>[] }>, accountId: number) {
  const r = await q("SELECT coalesce(sum(size), 0) AS bytes, coalesce(sum(messages), 0) AS n FROM mailboxes WHERE account_id = ?", [accountId]);
  return { usedBytes: Number(r.rows[0]!.bytes), usedMessages: Number(r.rows[0]!.n) };
}

/** Inside a write transaction, before adding `bytes` in `count` messages to the account. */
export async function checkQuotaInTx(tx: Tx, accountId: number, bytes: number, count: number): Promise<void> {
  const l = await exec(tx, "SELECT storage_kib, messages FROM quotas WHERE account_id = ?", [accountId]);
  const row = l.rows[0];
  if (!row || (row.storage_kib === null && row.messages === null)) return;
  const u = await usage((sql, args) => exec(tx, sql, args), accountId);
  if (row.storage_kib !== null && u.usedBytes + bytes > Number(row.storage_kib) * 1024) throw new StoreError("OVERQUOTA", "storage quota exceeded");
  if (row.messages !== null && u.usedMessages + count > Number(row.messages)) throw new StoreError("OVERQUOTA", "message quota exceeded");
}

export function quotaOps(ctx: StoreCtx): QuotaOps {
  async function getQuota(accountId: number): Promise<Quota> {
    const l = await read(ctx, "SELECT storage_kib, messages FROM quotas WHERE account_id = ?", [accountId]);
    const row = l.rows[0];
    const u = await usage((sql, args) => read(ctx, sql, args), accountId);
    return {
      storageKib: row && row.storage_kib !== null ? Number(row.storage_kib) : null,
      messages: row && row.messages !== null ? Number(row.messages) : null,
      ...u,
    };
  }

  async function atQuota(accountId: number): Promise<boolean> {
    const l = await read(ctx, "SELECT storage_kib, messages FROM quotas WHERE account_id = ?", [accountId]);
    const row = l.rows[0];
    // No limit (the usual case at RCPT): the usage is not summed at all.
    if (!row || (row.storage_kib === null && row.messages === null)) return false;
    const u = await usage((sql, args) => read(ctx, sql, args), accountId);
    return (row.storage_kib !== null && u.usedBytes >= Number(row.storage_kib) * 1024) || (row.messages !== null && u.usedMessages >= Number(row.messages));
  }

  async function setQuota(accountId: number, limits: QuotaLimits): Promise<void> {
    for (const v of [limits.storageKib, limits.messages]) {
      if (v !== null && (!Number.isSafeInteger(v) || v < 0)) throw new StoreError("INVALID", "a quota is a whole number ≥ 0, or none");
    }
    await ctx.db.write(async (tx) => {
      const a = await exec(tx, "SELECT id FROM accounts WHERE id = ?", [accountId]);
      if (!a.rows.length) throw new StoreError("NONEXISTENT", `no account ${accountId}`);
      await exec(tx, "INSERT INTO quotas(account_id, storage_kib, messages) VALUES (?, ?, ?) ON CONFLICT(account_id) DO UPDATE SET storage_kib = excluded.storage_kib, messages = excluded.messages", [
        accountId,
        limits.storageKib,
        limits.messages,
      ]);
    });
  }

  return { getQuota, atQuota, setQuota };
}
