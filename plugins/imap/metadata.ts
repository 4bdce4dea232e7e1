// METADATA storage (RFC 5464): entries per (account, mailbox), mailbox 0 for the server.
// Server /shared entries are the administrator's (account 0, read-only to users); the one
// every server has is /shared/admin (§3.2.1), answered from the configuration.
import { and, eq, inArray } from "drizzle-orm";
import type { Db } from "../../core/db/open.ts";
import { imapMetadata } from "../../core/db/schema.ts";

export const SERVER = 0;
export const MAX_VALUE = 64 * 1024;
export const MAX_ENTRIES = 200;

export interface Entry {
  entry: string;
  value: string;
}

/** Entries of a mailbox (or the server) for an account, lower-case names. */
export async function readEntries(db: Db, accountId: number, mailboxId: number): Promise<Entry[]> {
  const owners = mailboxId === SERVER ? [accountId, 0] : [accountId];
  return db.orm
    .select({ entry: imapMetadata.entry, value: imapMetadata.value })
    .from(imapMetadata)
    .where(and(inArray(imapMetadata.accountId, owners), eq(imapMetadata.mailboxId, mailboxId)));
}

/** Sets (value) or removes (null) entries in one transaction; "toomany" when the limit
 *  would be passed. */
export async function writeEntries(db: Db, accountId: number, mailboxId: number, changes: { entry: string; value: string | null }[]): Promise<"ok" | "toomany"> {
  return db
    .write(async (tx) => {
      for (const c of changes) {
        const where = and(eq(imapMetadata.accountId, accountId), eq(imapMetadata.mailboxId, mailboxId), eq(imapMetadata.entry, c.entry));
        if (c.value === null) await tx.orm.delete(imapMetadata).where(where);
        else
          await tx.orm
            .insert(imapMetadata)
            .values({ accountId, mailboxId, entry: c.entry, value: c.value })
            .onConflictDoUpdate({ target: [imapMetadata.accountId, imapMetadata.mailboxId, imapMetadata.entry], set: { value: c.value } });
      }
      const n = await tx.orm
        .select({ entry: imapMetadata.entry })
        .from(imapMetadata)
        .where(and(eq(imapMetadata.accountId, accountId), eq(imapMetadata.mailboxId, mailboxId)));
      if (n.length > MAX_ENTRIES) throw new TooMany();
      return "ok" as const;
    })
    .catch((e) => {
      if (e instanceof TooMany) return "toomany" as const;
      throw e;
    });
}

class TooMany extends Error {}

/** A deleted mailbox's entries go with it. */
export async function dropMailboxEntries(db: Db, mailboxId: number): Promise<void> {
  await db.write((tx) => tx.orm.delete(imapMetadata).where(eq(imapMetadata.mailboxId, mailboxId)));
}

/** RFC 5464 §3.2 entry names: "/private/…" or "/shared/…", no "*", "%", "//", trailing "/". */
export function validEntry(e: string): boolean {
  return /^\/(private|shared)(\/[^/*%\x00-\x1f\x7f]+)+$/i.test(e) && e.length <= 1024;
}
