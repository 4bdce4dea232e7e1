// One POP3 session: the state machine of RFC 1939 §3-6 (AUTHORIZATION → TRANSACTION →
// UPDATE) on top of the line reader and command parser. Commands run one at a time in
// arrival order, which is what PIPELINING (RFC 2449 §6.6) needs.
import type { AuthResult, AuthUser, Connection, Credentials } from "../../core/types.ts";
import type { BlobStore, Store, StoreChange } from "../../core/store/types.ts";
import { createAuthorization } from "./authorization.ts";
import { capabilities } from "./capa.ts";
import { parseCommand, parseNumber, type Command } from "./command.ts";
import { createLineReader, type LineItem } from "./lines.ts";
import type { MaildropLocks } from "./locks.ts";
import { createMaildrop, deletedUids, dropStat, lookup, markGone, type DropMessage, type Maildrop } from "./maildrop.ts";
import { OutBuffer } from "./output.ts";
import { createMessageReader, type MessageParts, type MessageReader } from "./reader.ts";
import { SessionLoop } from "../../core/session.ts";
import { runTransactionCommand, TRANSACTION_COMMANDS, type TxnIo } from "./transaction.ts";
import { terminateInPlace } from "./wire.ts";

export type Pop3Conn = Pick<
  Connection,
  "id" | "secure" | "plaintextLoginAllowed" | "log" | "closing" | "onData" | "onClose" | "write" | "writeReusable" | "drain" | "pause" | "resume" | "upgradeTls" | "setIdleTimeout" | "close"
>;

export interface Pop3Limits {
  /** RFC 1939 §3: the autologout timer, at least 10 minutes. */
  idleMs: number;
  /** Malformed or misplaced commands before the server hangs up. */
  maxErrors: number;
  /** Failed logins per session before the server hangs up. */
  maxAuthFailures: number;
  /** Pause before answering a failed login (slows guessing). */
  authFailureDelayMs: number;
}

export interface Pop3Deps {
  hostname: string;
  store: Pick<Store, "getMailbox" | "blobList" | "prefixes" | "remove" | "onChange" | "onAccountGone"> & { blobs: Pick<BlobStore, "get" | "syncReadMax" | "readInto" | "readMany"> };
  /** The `auth` hook, bound to this connection. */
  auth(cred: Credentials): Promise<AuthResult>;
  locks: MaildropLocks;
  limits: Pop3Limits;
  /** Pipelined RETRs read in batches (BlobStore.readMany) when the store can: default on. */
  batchReads?: boolean;
}

/** RFC 2449 §4: a command line is at most 255 octets with its CRLF. */
const MAX_COMMAND = 253;
/** SASL responses (RFC 5034 §4) may be longer than commands. */
const MAX_LINE = 4096;
/** Pipelined lines buffered before reading from the socket pauses, and resumes. */
const QUEUE_HIGH = 64;
const QUEUE_LOW = 8;
/** RETRs queued behind the current command whose reads may start early, and the largest
 *  message read that way (memory stays bounded). */
const READ_AHEAD = 4;
const READ_AHEAD_MAX_BYTES = 1 << 20;
/** Pipelined RETRs of small messages are read together off the event loop (BlobStore.
 *  readMany: one hop for the lot instead of an open/read/close each here) when at least
 *  BATCH_MIN are queued; at most BATCH_MAX messages and BATCH_BYTES are held read ahead.
 *  A hop costs the event loop about what reading 4 blobs here does (~24 µs against ~6.6
 *  each, measured), hence 8. A lone RETR (most clients do not pipeline) is read here. */
const BATCH_MIN = 8;
const BATCH_MAX = 32;
const BATCH_BYTES = 256 * 1024;
/** Pipelined answers are gathered and written together (one write instead of one per
 *  answer: the write is most of a small RETR's cost) up to this many octets … */
const OUT_FLUSH = 64 * 1024;

type State = "authorization" | "transaction" | "update";

/** A buffer batch reads land in, and how many of its blobs are not taken yet. */
interface Slab {
  sab: SharedArrayBuffer;
  live: number;
}
/** A blob read by a batch (a view of its slab); null: that read failed, and the general
 *  way reads again and reports. */
interface Batched {
  body: Uint8Array | null;
  slab: Slab;
}

/** A line read and not handled yet, with its parse once one was needed. */
interface Queued {
  item: LineItem;
  parsed?: ReturnType<typeof parseCommand>;
}

function parsed(q: Queued): ReturnType<typeof parseCommand> | null {
  if (q.item.kind !== "line") return null;
  return (q.parsed ??= parseCommand(q.item.bytes));
}

export function startSession(conn: Pop3Conn, deps: Pop3Deps): void {
  const { limits } = deps;
  const syncReadMax = deps.store.blobs.syncReadMax ?? 0;
  const blobs = deps.store.blobs;
  const readInto = blobs.readInto?.bind(blobs);
  const readMany = deps.batchReads === false ? undefined : blobs.readMany?.bind(blobs);
  const lines = createLineReader(MAX_LINE);
  /** Whole lines read but not handled yet (PIPELINING). */
  const queue: Queued[] = [];
  let state: State = "authorization";
  let ended = false;
  let lockedAccount: number | null = null;
  let drop: Maildrop | null = null;
  let unsubscribe: (() => void) | null = null;
  let reader: MessageReader | null = null;
  let io: TxnIo | null = null;
  const ahead = new Map<DropMessage, Promise<MessageParts | null>>();
  /** Blobs of queued RETRs read by a batch, until their RETR takes them. */
  const batched = new Map<DropMessage, Batched>();
  /** The shared buffers batches read into: two (the next batch is read while the last
   *  one's are answered), made when the client first pipelines, kept until the session
   *  ends (2 × 256 KiB; POP3 sessions end once mail is fetched). Dropping them whenever the
   *  queue ran dry made one anew for nearly every batch (measured: 1,416 for 32,000 RETRs). */
  const slabs: Slab[] = [];
  /** The batch read in flight. */
  let batchRead: Promise<void> | null = null;
  /** Answers not written yet (TRANSACTION state: see OUT_FLUSH). */
  const out = new OutBuffer();

  const loop = new SessionLoop<Queued>(
    conn,
    {
      push(chunk) {
        // A loop, not push(...items): one chunk may hold tens of thousands of lines.
        for (const item of lines.push(chunk)) queue.push({ item });
      },
      next: () => queue.shift() ?? null,
      buffered: () => queue.length,
    },
    // RFC 1939 §3: the autologout timer, before and after login.
    { highWater: QUEUE_HIGH, lowWater: QUEUE_LOW, maxErrors: limits.maxErrors, preAuthMs: limits.idleMs, idleMs: limits.idleMs },
    {
      handle,
      failed: () => no("[SYS/TEMP] Internal error, try again later"),
      drained: flush,
      // RFC 1939 §3: an idle session is logged out without entering UPDATE. A client still
      // reading a long RETR is not idle: the timer starts again.
      timedOut(busy) {
        if (busy) return false;
        end("-ERR Disconnected for inactivity");
        return true;
      },
      shutdown(busy) {
        if (busy) return false;
        end("-ERR [SYS/TEMP] Server shutting down");
        return true;
      },
    },
  );

  /** Writes the gathered answers: one buffer, with large pieces (a big blob) apart. */
  function flush(): void {
    if (out.bytes === 0) return;
    const pieces = out.take();
    if (ended) return;
    let reusable = conn.writeReusable !== undefined;
    for (const p of pieces) {
      if (!conn.writeReusable) conn.write(p);
      else if (!conn.writeReusable(p)) reusable = false;
    }
    if (reusable) out.recycle();
  }
  /** One response line. In the TRANSACTION state answers are gathered until the queue of
   *  pipelined commands runs dry (or OUT_FLUSH); before it, each is written at once (logins
   *  wait on the auth hook, STLS on a handshake). */
  const send = (line: string) => {
    if (ended) return;
    out.line(line);
    if (state !== "transaction") flush();
  };
  const end = (line: string) => {
    send(line);
    flush();
    ended = true;
    loop.close();
    clearQueue();
    conn.close();
  };
  const clearQueue = () => {
    queue.length = 0;
  };
  const no = (text: string) => send(`-ERR ${text}`);
  const bad = (text: string) => {
    if (loop.error()) end(`-ERR ${text}; too many errors, closing connection`);
    else no(text);
  };
  const authorization = createAuthorization({
    conn,
    deps,
    send,
    no,
    bad,
    end,
    ended: () => ended,
    resetInput() {
      clearQueue();
      lines.reset();
    },
    closed() {
      ended = true;
      loop.close();
    },
    loggedIn: openMaildrop,
  });

  function releaseMaildrop(): void {
    unsubscribe?.();
    unsubscribe = null;
    if (lockedAccount !== null) deps.locks.release(lockedAccount, conn.id);
    lockedAccount = null;
  }

  conn.onClose(() => {
    ended = true;
    loop.close();
    clearQueue();
    ahead.clear();
    batched.clear();
    slabs.length = 0;
    out.clear();
    // Closed without QUIT (or idle, or shutdown): deletions are not applied (RFC 1939 §6).
    releaseMaildrop();
  });
  conn.onData((chunk) => loop.feed(chunk));

  /** PIPELINING: start the store reads of the RETRs queued behind this one while its
   *  answer is written (they overlap when the blob store reads asynchronously: large
   *  blobs, S3). */
  function readAhead(): void {
    if (state !== "transaction" || !drop || !reader) return;
    for (const m of ahead.keys()) if (m.deleted) ahead.delete(m); // DELE overtook its RETR
    const n = Math.min(queue.length, READ_AHEAD);
    for (let i = 0; i < n && ahead.size < READ_AHEAD; i++) {
      const p = parsed(queue[i]!);
      if (!p?.ok || p.cmd.keyword !== "RETR") continue;
      const r = lookup(drop, parseNumber(p.cmd.args[0]));
      // A blob the store reads synchronously gains nothing from an early start (and holding
      // it longer costs: measured ~7-19 µs per RETR of 10 KiB).
      if (!r.ok || r.msg.gone || r.msg.stored <= syncReadMax || r.msg.size > READ_AHEAD_MAX_BYTES || ahead.has(r.msg)) continue;
      const read = reader.read(r.msg);
      read.catch(() => {}); // a failure is reported when RETR awaits it
      ahead.set(r.msg, read);
    }
  }

  function handle(q: Queued): Promise<void> | void {
    const { item } = q;
    if (authorization.saslPending) return authorization.saslLine(item);
    if (item.kind === "toolong") return bad("Line too long");
    const p = parsed(q)!;
    if (!p.ok) return bad(p.error);
    const cmd = p.cmd;
    if (item.bytes.length > MAX_COMMAND && cmd.keyword !== "AUTH") return bad("Line too long");
    if (cmd.keyword === "CAPA") return capa(cmd);
    if (cmd.keyword === "QUIT") return quit(cmd);
    if (state === "authorization") return authorization.command(cmd);
    if (TRANSACTION_COMMANDS.has(cmd.keyword)) return runTransactionCommand(io!, cmd);
    if (["USER", "PASS", "AUTH", "APOP"].includes(cmd.keyword)) return bad("Already authenticated");
    if (cmd.keyword === "STLS") return bad("STLS is only allowed before authentication");
    return bad("Unknown command");
  }

  function capa(cmd: Command): void {
    if (cmd.args.length) return bad("CAPA takes no arguments");
    const caps = capabilities({ loggedIn: state !== "authorization", secure: conn.secure, credentialsAllowed: conn.plaintextLoginAllowed });
    send(`+OK Capability list follows\r\n${caps.join("\r\n")}\r\n.`);
  }

  async function openMaildrop(user: AuthUser): Promise<void> {
    // RFC 1939 §8: one session per maildrop.
    if (!deps.locks.acquire(user.accountId, conn.id)) return no("[IN-USE] Maildrop is locked by another POP3 session");
    lockedAccount = user.accountId;
    // Subscribe before the snapshot so an expunge in between is not missed.
    const early: StoreChange[] = [];
    const offChange = deps.store.onChange((ev) => {
      if (ev.kind !== "expunge" || ev.origin === conn.id) return;
      if (!drop) early.push(ev);
      else if (ev.mailboxId === drop.mailboxId) markGone(drop, ev.uids);
    });
    // An admin disabled or deleted the account: close without UPDATE (RFC 1939 §6), so
    // DELE marks are not applied; [AUTH] as in RFC 3206 §4.
    const offGone = deps.store.onAccountGone((ev) => {
      if (ev.accountId === user.accountId) end(`-ERR [AUTH] Account ${ev.reason}, closing connection`);
    });
    unsubscribe = () => {
      offChange();
      offGone();
    };
    try {
      const mbox = await deps.store.getMailbox(user.accountId, "INBOX");
      const list = mbox ? await deps.store.blobList(mbox.id) : [];
      drop = createMaildrop(mbox, list);
      reader = createMessageReader(deps.store, drop);
      io = txnIo(drop, reader);
    } catch (err) {
      conn.log.error("pop3 maildrop open failed", { err: (err as Error)?.message });
      releaseMaildrop();
      return no("[SYS/TEMP] Cannot open the maildrop, try again later");
    }
    if (ended) return releaseMaildrop();
    for (const ev of early) if (ev.mailboxId === drop.mailboxId) markGone(drop, ev.uids);
    state = "transaction";
    const s = dropStat(drop);
    conn.log.info("pop3 login", { user: user.address, messages: s.count });
    send(`+OK Logged in, maildrop has ${s.count} messages (${s.size} octets)`);
  }

  async function quit(cmd: Command): Promise<void> {
    if (cmd.args.length) return bad("QUIT takes no arguments");
    if (state === "authorization") return end(`+OK ${deps.hostname} POP3 server signing off`);
    // RFC 1939 §6: the UPDATE state removes the messages marked deleted.
    state = "update";
    const d = drop!;
    const uids = deletedUids(d);
    let removed = 0;
    if (uids.length > 0 && d.mailboxId !== null) {
      try {
        removed = (await deps.store.remove(d.mailboxId, uids, { origin: conn.id })).length;
      } catch (err) {
        conn.log.error("pop3 update failed", { err: (err as Error)?.message });
        releaseMaildrop();
        return end("-ERR [SYS/TEMP] Some deleted messages were not removed");
      }
    }
    // Unlock before answering: a client that reconnects at once must find it free.
    releaseMaildrop();
    const left = dropStat(d).count;
    conn.log.info("pop3 logout", { deleted: removed, left });
    end(`+OK ${deps.hostname} POP3 server signing off (${left === 0 ? "maildrop empty" : `${left} messages left`})`);
  }

  function txnIo(d: Maildrop, r: MessageReader): TxnIo {
    return {
      drop: d,
      read(msg) {
        const early = ahead.get(msg);
        ahead.delete(msg);
        // This read first: the window of prefixes it fetches starts at this message.
        const read = early ?? r.read(msg);
        readAhead();
        return read;
      },
      log: conn.log,
      send,
      no,
      bad,
      sendMulti(status, pieces) {
        if (ended) return;
        out.line(status);
        for (const p of pieces) out.push(p);
        if (out.bytes < OUT_FLUSH) return;
        flush();
        return conn.drain();
      },
      retrInPlace: readInto ? (msg) => retrInPlace(r, msg, readInto) : undefined,
    };
  }

  /** Starts one batch read of the blobs of `first` (when given) and of the RETRs queued
   *  behind it that RETR in place would read; false when fewer than BATCH_MIN qualify. */
  function startBatch(r: MessageReader, first?: DropMessage): boolean {
    if (!readMany || batchRead || !drop || queue.length + (first ? 1 : 0) < BATCH_MIN) return false;
    // Read for a RETR that a DELE overtook, or expunged meanwhile: never taken.
    for (const [m, e] of batched) if (m.deleted || m.gone) take(m, e);
    let slab = slabs.find((b) => b.live === 0);
    if (!slab && slabs.length >= 2) return false;
    const msgs: DropMessage[] = [];
    const sizes: number[] = [];
    let bytes = 0;
    const add = (m: DropMessage): boolean => {
      // (Not one that RETR in place would not take: too large for the output buffer.)
      if (m.gone || m.deleted || m.stored > syncReadMax || !out.fits(m.stored + 64) || m.size !== m.stored || batched.has(m) || msgs.includes(m)) return true;
      const p = r.prefixNow(m);
      if (p === undefined) return false; // not fetched yet: stop here
      if (p === null || p.length > m.stored) return true; // gone, or not in place: the general way
      const size = m.stored - p.length;
      if (msgs.length + batched.size >= BATCH_MAX || bytes + size + msgs.length + 1 > BATCH_BYTES + BATCH_MAX) return false;
      msgs.push(m);
      sizes.push(size);
      bytes += size;
      return true;
    };
    if (first && !add(first)) return false;
    for (let i = 0; i < queue.length; i++) {
      const p = parsed(queue[i]!);
      if (!p?.ok || p.cmd.keyword !== "RETR") continue;
      const l = lookup(drop, parseNumber(p.cmd.args[0]));
      if (l.ok && !add(l.msg)) break;
    }
    if (msgs.length < BATCH_MIN) return false;
    if (!slab) slabs.push((slab = { sab: new SharedArrayBuffer(BATCH_BYTES + BATCH_MAX), live: 0 }));
    const into = slab;
    into.live = msgs.length;
    const done = (got: readonly (Uint8Array | null)[]) => msgs.forEach((m, i) => batched.set(m, { body: got[i] ?? null, slab: into }));
    batchRead = readMany(
      msgs.map((m, i) => ({ id: m.blobId, size: sizes[i]! })),
      into.sab,
    )
      .then(done, (err: Error) => {
        // Each of these RETRs then reads the general way, and reports.
        conn.log.warn("pop3 batch read failed", { err: (err as Error).message });
        done([]);
      })
      .finally(() => (batchRead = null));
    return true;
  }

  /** A batched read leaves the map; its slab is free again once all of its have. */
  function take(m: DropMessage, e: Batched): void {
    batched.delete(m);
    e.slab.live--;
  }

  /** RETR (RFC 1939 §7) of a small CRLF-clean message without dot lines, the usual one:
   *  the status line, the prefix and the blob (read straight into the output) and the
   *  terminator, with no buffer of its own and no copy. */
  function retrInPlace(r: MessageReader, msg: DropMessage, readInto: NonNullable<BlobStore["readInto"]>): boolean | Promise<boolean> {
    if (msg.stored > syncReadMax || msg.size !== msg.stored) return false;
    const prefix = r.prefixNow(msg);
    // Not fetched yet: the next prefixes in one query, then again.
    if (prefix === undefined) return r.prefix(msg).then((p) => p !== null && !ended && retrInPlace(r, msg, readInto));
    if (prefix === null || ended || prefix.length > msg.stored) return false; // gone: the general way answers
    const got = batched.get(msg);
    if (!got) {
      // Pipelined: this one and those queued behind it in one batch (or the batch in flight,
      // which may hold it); else read below, here.
      if (batchRead || startBatch(r, msg)) return batchRead!.then(() => !ended && retrInPlace(r, msg, readInto));
    } else {
      take(msg, got);
      if (!got.body) return false;
      // The next batch is read while these are answered.
      if (batched.size <= BATCH_MAX / 4) startBatch(r);
    }
    const body = got?.body;
    readAhead();
    const size = msg.stored - prefix.length;
    const status = `+OK ${msg.size} octets\r\n`;
    // Room for the terminator (5), which also covers readInto's one extra byte.
    const at = out.reserve(status.length + msg.stored + 5);
    if (!at) return false;
    const { buf, offset } = at;
    const start = offset + buf.write(status, offset, "latin1");
    prefix.copy(buf, start);
    if (body) buf.set(body, start + prefix.length);
    else {
      try {
        readInto(msg.blobId, size, buf, start + prefix.length);
      } catch {
        return false;
      }
    }
    const end = terminateInPlace(buf, start, start + msg.stored);
    if (end < 0) return false;
    out.commit(end - offset);
    if (out.bytes < OUT_FLUSH) return true;
    flush();
    return conn.drain().then(() => true);
  }

  // RFC 1939 §4: the greeting. No APOP timestamp: APOP is not offered.
  send(`+OK ${deps.hostname} POP3 server ready`);
  loop.start();
}
