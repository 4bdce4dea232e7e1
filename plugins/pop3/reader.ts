// Reading messages for RETR and TOP without a database query per message: a message is
// its row's prefix (header lines added at delivery) and its blob. Clients RETR in order,
// pipelined, so the prefixes of the next WINDOW messages come in one query; the blob is
// read by the blob store (small ones synchronously, from the page cache).
import type { BlobStore, Store } from "../../core/store/types.ts";
import type { DropMessage, Maildrop } from "./maildrop.ts";

/** Prefixes fetched per query (and held: a few KiB). */
const WINDOW = 256;

export interface MessageParts {
  /** The stored prefix, encoded; empty when none. */
  prefix: Buffer;
  body: Uint8Array;
}

export interface MessageReader {
  /** The message's parts, or null when its row was expunged meanwhile (then `gone`). */
  read(msg: DropMessage): Promise<MessageParts | null>;
  /** Its prefix, or null when its row was expunged meanwhile (then `gone`). */
  prefix(msg: DropMessage): Promise<Buffer | null>;
  /** The same when already fetched (with the messages before it); else undefined. */
  prefixNow(msg: DropMessage): Buffer | null | undefined;
}

export function createMessageReader(store: Pick<Store, "prefixes"> & { blobs: Pick<BlobStore, "get"> }, drop: Maildrop): MessageReader {
  /** Row id → prefix for the current window(s); null: the row is gone. */
  const window = new Map<number, Buffer | null>();
  /** The query in flight: pipelined RETRs read ahead wait for it rather than each asking. */
  let fetching: Promise<void> | null = null;

  async function fetchWindow(from: DropMessage): Promise<void> {
    const ids = [from.id];
    for (let i = from.n; i < drop.messages.length && ids.length < WINDOW; i++) {
      const m = drop.messages[i]!;
      if (!m.deleted && !m.gone) ids.push(m.id);
    }
    const got = await store.prefixes(ids);
    if (window.size >= WINDOW) window.clear();
    for (const id of ids) {
      const p = got.get(id);
      window.set(id, p === undefined ? null : Buffer.from(p));
    }
  }

  async function prefix(msg: DropMessage): Promise<Buffer | null> {
    let p = window.get(msg.id);
    while (p === undefined) {
      if (!fetching) fetching = fetchWindow(msg).finally(() => (fetching = null));
      await fetching;
      p = window.get(msg.id);
    }
    if (p === null) msg.gone = true;
    return p;
  }

  return {
    prefix,
    prefixNow(msg) {
      const p = window.get(msg.id);
      if (p === null) msg.gone = true;
      return p;
    },
    async read(msg) {
      const p = await prefix(msg);
      if (p === null) return null;
      // The blob's own size, for the blob store's choice of a synchronous read.
      const body = await store.blobs.get(msg.blobId, msg.stored - p.length);
      return { prefix: p, body };
    },
  };
}
