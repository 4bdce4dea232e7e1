// Writes what a source yields through the Store: mailboxes created (roles mapped onto the
// account's own Sent, Drafts …), messages in batches of one group-committed write each,
// counted so that found = imported + skipped + already there.
import type { Tx } from "../../core/db/open.ts";
import { isStoreError } from "../../core/store/index.ts";
import type { BatchItem, Mailbox, Store } from "../../core/store/types.ts";
import { roleByName } from "./maildir.ts";
import { emptyCounts, type Counts, type Report, type SourceEvent, type SourceFolder, type SourceMessage } from "./types.ts";

export interface WriterOptions {
  store: Store;
  accountId: number;
  /** Messages per batch (default 200) and bytes per batch (default 16 MiB). */
  batchMessages?: number;
  batchBytes?: number;
  onProgress?(c: Counts): void;
  /** In each batch's transaction: the source keys of the messages now stored. */
  remember?(tx: Tx, keys: NonNullable<SourceMessage["key"]>[]): Promise<void>;
  signal?: AbortSignal;
}

/** Mailbox names the store refuses (control characters, empty levels) made usable. */
export function sanitizeName(name: string): string {
  const s = name
    .replace(/[\x00-\x1f\x7f]/g, "_")
    .split("/")
    .map((p) => p.trim())
    .filter(Boolean)
    .join("/");
  return s || "Imported";
}

export function createWriter(o: WriterOptions) {
  const { store, accountId } = o;
  const maxMessages = o.batchMessages ?? 200;
  const maxBytes = o.batchBytes ?? 16 * 1024 * 1024;
  const counts = emptyCounts();
  const skippedList: Report["skippedList"] = [];
  const notes: string[] = [];
  const byName = new Map<string, Mailbox>();
  let mailboxes: Mailbox[] | null = null;
  let pending: SourceMessage[] = [];
  let pendingBytes = 0;
  const started = Date.now();

  async function resolve(folder: SourceFolder): Promise<Mailbox> {
    const known = byName.get(folder.name);
    if (known) return known;
    mailboxes ??= await store.listMailboxes(accountId);
    let mb: Mailbox | undefined;
    // A role the account has already (Sent, Drafts …) takes the source's folder of that role.
    if (folder.specialUse) mb = mailboxes.find((m) => m.specialUse === folder.specialUse);
    const name = folder.name.toUpperCase() === "INBOX" ? "INBOX" : folder.name;
    mb ??= mailboxes.find((m) => m.name === name);
    if (!mb) {
      const role = folder.specialUse && !mailboxes.some((m) => m.specialUse === folder.specialUse) ? folder.specialUse : null;
      try {
        mb = await store.createMailbox(accountId, name, role);
      } catch (e) {
        if (!isStoreError(e)) throw e;
        const alt = sanitizeName(name);
        mb = mailboxes.find((m) => m.name === alt) ?? (await store.createMailbox(accountId, alt, role));
        notes.push(`folder "${name}" cannot be a mailbox name (${(e as Error).message}): imported as "${alt}"`);
      }
      if (folder.subscribed === false) await store.setSubscribed(accountId, mb.name, false);
      mailboxes = await store.listMailboxes(accountId);
    }
    byName.set(folder.name, mb);
    return mb;
  }

  /** Writes one batch; counts once it is committed. */
  async function write(batch: SourceMessage[]): Promise<void> {
    const items: BatchItem[] = [];
    const owner: number[] = [];
    for (const [i, m] of batch.entries()) {
      for (const f of m.folders) {
        const mb = await resolve({ name: f, specialUse: roleByName(f.split("/").pop()!) });
        items.push({ mailboxId: mb.id, raw: m.raw, flags: m.flags, internalDate: m.internalDate });
        owner.push(i);
      }
    }
    const keys = batch.flatMap((m) => (m.key ? [m.key] : []));
    const results = await store.appendBatch(items, { inTx: o.remember && keys.length ? (tx) => o.remember!(tx, keys) : undefined });
    const added = new Set<number>();
    results.forEach((r, j) => r.status === "added" && added.add(owner[j]!));
    for (let i = 0; i < batch.length; i++) {
      if (added.has(i)) counts.imported++;
      else counts.existing++;
    }
    o.onProgress?.({ ...counts });
  }

  // One batch is written while the source reads the next (parsing overlaps the fsyncs).
  let inflight: Promise<void> | null = null;
  async function flush(): Promise<void> {
    if (inflight) await inflight;
    inflight = null;
    if (!pending.length) return;
    const batch = pending;
    pending = [];
    pendingBytes = 0;
    inflight = write(batch);
  }

  /** Everything read is committed. */
  async function drain(): Promise<void> {
    await flush();
    if (inflight) await inflight;
    inflight = null;
  }

  return {
    counts,
    async handle(ev: SourceEvent): Promise<void> {
      if (ev.kind === "folder") {
        await drain();
        await resolve(ev.folder);
      } else if (ev.kind === "skip") {
        counts.found++;
        counts.skipped++;
        skippedList.push({ where: ev.where, reason: ev.reason });
        o.onProgress?.({ ...counts });
      } else if (ev.kind === "existing") {
        await drain();
        counts.found += ev.count;
        counts.existing += ev.count;
        counts.bytes += ev.bytes ?? 0;
        o.onProgress?.({ ...counts });
      } else if (ev.kind === "note") {
        notes.push(ev.text);
      } else {
        counts.found++;
        counts.bytes += ev.msg.raw.length;
        pending.push(ev.msg);
        pendingBytes += ev.msg.raw.length;
        if (pending.length >= maxMessages || pendingBytes >= maxBytes) await flush();
      }
    },
    drain,
    report(): Report {
      return { ...counts, skippedList, notes, folders: byName.size, seconds: (Date.now() - started) / 1000 };
    },
  };
}

/** Drains a source into the store; stops (after writing what was read) when aborted. */
export async function runImport(events: AsyncIterable<SourceEvent>, o: WriterOptions): Promise<Report> {
  const w = createWriter(o);
  for await (const ev of events) {
    await w.handle(ev);
    if (o.signal?.aborted) break;
  }
  await w.drain();
  return w.report();
}
