// The durable commit of one accepted message (DESIGN.md "The durability contract"):
// the blob is fsynced and parsed by store.prepare OUTSIDE the transaction, then one
// group-committed write transaction creates the local mailbox rows and one spool row per
// remote recipient. The caller says "250" only after this resolves.
import type { Db, Tx } from "../db/open.ts";
import { spool } from "../db/schema.ts";
import type { ParsedMessage, Store, StoredBlob } from "../store/types.ts";
import type { AcceptedMessage } from "./types.ts";

/** Spool message ids: time-ordered, unique per process and across instances. */
export function newMsgId(): string {
  const rnd = crypto.getRandomValues(new Uint8Array(6));
  return Date.now().toString(36) + Buffer.from(rnd).toString("hex");
}

export function domainOf(address: string): string {
  const at = address.lastIndexOf("@");
  return at < 0 ? "" : address.slice(at + 1).toLowerCase();
}

export interface Prepared {
  blob: StoredBlob;
  parsed: ParsedMessage;
}

/** Outside any transaction: the blob written and fsynced, the message parsed once. */
export function prepareMessage(store: Store, msg: AcceptedMessage): Promise<Prepared> {
  return store.prepare(msg.raw, msg.prefix, msg.structure);
}

/** Inside a write transaction: mailbox rows for local targets, spool rows for remote ones. */
export async function commitMessage(tx: Tx, store: Store, msg: AcceptedMessage, prep: Prepared, id: string): Promise<void> {
  const now = Date.now();
  const { blob, parsed } = prep;
  for (const target of msg.local) await store.appendInTx(tx, target, blob, msg.prefix, parsed, { internalDate: now });
  if (msg.remote.length === 0) return;
  // One reference per spool message (not per row): released when all its rows are final.
  await store.refBlobInTx(tx, blob);
  const prefix = msg.prefix.join("");
  await tx.orm.insert(spool).values(
    msg.remote.map((r) => ({
      msgId: id,
      blobId: blob.id,
      prefix,
      mailFrom: r.mailFrom ?? msg.mailFrom,
      recipient: r.address,
      domain: domainOf(r.address),
      status: "queued",
      attempts: 0,
      nextAttempt: now,
      dsn: msg.dsn || r.dsn ? JSON.stringify({ ...msg.dsn, ...r.dsn }) : null,
      internal: msg.internal ?? false,
      size: parsed.size,
      createdAt: now,
      updatedAt: now,
    })),
  );
}

export async function acceptMessage(db: Db, store: Store, msg: AcceptedMessage, id = newMsgId()): Promise<{ id: string }> {
  const prep = await prepareMessage(store, msg);
  await db.write((tx) => commitMessage(tx, store, msg, prep, id));
  return { id };
}
