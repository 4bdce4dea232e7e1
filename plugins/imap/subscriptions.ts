// Subscriptions to names that have no mailbox (RFC 3501 §6.3.6 / RFC 9051 §6.3.7: a
// subscription is to a name and outlives DELETE; SUBSCRIBE may name a mailbox that does not
// exist). Existing mailboxes keep theirs in the store's `subscribed` flag; these rows hold the
// rest, and move back into the flag when the mailbox is created again.
import { and, eq } from "drizzle-orm";
import type { Db } from "../../core/db/open.ts";
import { imapSubscriptions } from "../../core/db/schema.ts";

export async function orphanSubscriptions(db: Db, accountId: number): Promise<Set<string>> {
  const rows = await db.orm.select({ name: imapSubscriptions.name }).from(imapSubscriptions).where(eq(imapSubscriptions.accountId, accountId));
  return new Set(rows.map((r) => r.name));
}

export async function addOrphanSubscription(db: Db, accountId: number, name: string): Promise<void> {
  await db.write((tx) => tx.orm.insert(imapSubscriptions).values({ accountId, name }).onConflictDoNothing());
}

/** Removes it; true if it was there. */
export async function removeOrphanSubscription(db: Db, accountId: number, name: string): Promise<boolean> {
  const r = await db.write((tx) =>
    tx.orm
      .delete(imapSubscriptions)
      .where(and(eq(imapSubscriptions.accountId, accountId), eq(imapSubscriptions.name, name)))
      .returning(),
  );
  return r.length > 0;
}
