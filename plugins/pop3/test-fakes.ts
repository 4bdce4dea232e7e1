// In-memory stand-ins for a Connection and the Store, for the session's unit tests.
import type { AuthResult, Credentials, Logger } from "../../core/types.ts";
import type { Mailbox, StoreChange } from "../../core/store/types.ts";
import { createLocks } from "./locks.ts";
import type { Pop3Conn, Pop3Deps } from "./session.ts";

const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {}, child: () => quiet };

let seq = 0;

export class FakeConn implements Pop3Conn {
  readonly id = `t${++seq}`;
  readonly log = quiet;
  secure = false;
  isLoopback = true;
  allowPlaintextOnLoopback = true;
  get plaintextLoginAllowed(): boolean {
    return this.secure || (this.isLoopback && this.allowPlaintextOnLoopback);
  }
  out = "";
  closed = false;
  paused = false;
  idleMs = 0;
  onIdle?: () => void;
  private ac = new AbortController();
  private dataCbs: ((b: Buffer) => void)[] = [];
  private closeCbs: (() => void)[] = [];
  get closing(): AbortSignal {
    return this.ac.signal;
  }
  shutdown(): void {
    this.ac.abort();
  }
  onData(cb: (b: Buffer) => void): void {
    this.dataCbs.push(cb);
  }
  onClose(cb: () => void): void {
    this.closeCbs.push(cb);
  }
  write(d: string | Uint8Array): void {
    if (!this.closed) this.out += typeof d === "string" ? d : Buffer.from(d).toString("latin1");
  }
  async drain(): Promise<void> {}
  pause(): void {
    this.paused = true;
  }
  resume(): void {
    this.paused = false;
  }
  async upgradeTls(): Promise<void> {
    this.secure = true;
  }
  setIdleTimeout(ms: number, onIdle?: () => void): void {
    this.idleMs = ms;
    this.onIdle = onIdle;
  }
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const cb of this.closeCbs) cb();
  }
  /** Client side: send raw bytes. */
  send(s: string | Buffer): void {
    for (const cb of this.dataCbs) cb(Buffer.isBuffer(s) ? s : Buffer.from(s, "latin1"));
  }
  /** Wait until the output holds `n` complete responses (multi-line ones end in ".CRLF"). */
  async take(multi = false): Promise<string> {
    for (let i = 0; i < 2000; i++) {
      const o = this.out;
      const done = multi && o.startsWith("+OK") ? o.endsWith("\r\n.\r\n") : o.endsWith("\r\n");
      if (done || (this.closed && o !== "")) {
        this.out = "";
        return o;
      }
      if (this.closed) return "";
      await Bun.sleep(1);
    }
    throw new Error(`no complete response; have ${JSON.stringify(this.out)}`);
  }
  /** Send one command line and return the response. */
  async cmd(line: string, multi = false): Promise<string> {
    this.out = "";
    this.send(`${line}\r\n`);
    return this.take(multi);
  }
}

export interface FakeStore {
  deps: Pop3Deps;
  removed: number[][];
  /** Blobs by UID (the blob id is `b<uid>`, the row id the UID). */
  messages: Map<number, Uint8Array>;
  /** Stored prefixes by UID (none: empty). */
  prefixes: Map<number, string>;
  emit(ev: StoreChange): void;
  failRemove: boolean;
  /** readInto (the in-place RETR's read) throws, as for a missing file. */
  failReadInto: boolean;
  /** readMany (batched reads of pipelined RETRs): off unless set; "fail" rejects the
   *  batch, a set of UIDs answers null for those (a missing file). */
  batchReads: "off" | "on" | "fail" | Set<number>;
  /** Batches read, and the blobs in each. */
  batches: number[];
  authCalls: Credentials[];
  /** Blob reads and prefix queries so far. */
  blobReads: number;
  prefixQueries: number;
}

const MAILBOX: Mailbox = {
  id: 1,
  accountId: 1,
  name: "INBOX",
  specialUse: null,
  uidvalidity: 777,
  uidnext: 1,
  highestModseq: 1,
  messages: 0,
  unseen: 0,
  size: 0,
  subscribed: true,
  createdModseq: 1,
  changedModseq: 1,
};

/** A store with one account (alice@example.test / secret) whose INBOX holds `raws`, each
 *  stored as its prefix (opts.prefixes, by index) and blob. */
export function fakeStore(raws: string[], opts: { auth?: (c: Credentials) => AuthResult; prefixes?: string[] } = {}): FakeStore {
  const messages = new Map<number, Uint8Array>();
  const prefixes = new Map<number, string>();
  raws.forEach((r, i) => messages.set(i + 1, Buffer.from(r, "latin1")));
  opts.prefixes?.forEach((p, i) => prefixes.set(i + 1, p));
  const listeners = new Set<(ev: StoreChange) => void>();
  const fs: FakeStore = {
    removed: [],
    messages,
    prefixes,
    blobReads: 0,
    prefixQueries: 0,
    failRemove: false,
    failReadInto: false,
    batchReads: "off",
    batches: [],
    authCalls: [],
    emit: (ev) => listeners.forEach((l) => l(ev)),
    deps: {
      hostname: "mx.example.test",
      locks: createLocks(),
      limits: { idleMs: 600_000, maxErrors: 5, maxAuthFailures: 3, authFailureDelayMs: 0 },
      async auth(cred) {
        fs.authCalls.push(cred);
        if (opts.auth) return opts.auth(cred);
        if (cred.username === "alice@example.test" && cred.password === "secret") return { kind: "user", user: { accountId: 1, address: "alice@example.test" } };
        return { kind: "reject", reply: { code: 535, enhanced: "5.7.8", text: "Authentication credentials invalid" } };
      },
      store: {
        async getMailbox(accountId, name) {
          return accountId === 1 && name.toUpperCase() === "INBOX" ? { ...MAILBOX } : null;
        },
        async blobList(mailboxId) {
          if (mailboxId !== 1) return [];
          return [...messages].map(([uid, raw]) => ({ id: uid, uid, blobId: `b${uid}`, size: Buffer.byteLength(prefixes.get(uid) ?? "") + raw.length }));
        },
        async prefixes(ids) {
          fs.prefixQueries++;
          return new Map(ids.filter((id) => messages.has(id)).map((id) => [id, prefixes.get(id) ?? ""]));
        },
        blobs: {
          // As the filesystem store: small blobs are read synchronously, in place for RETR.
          syncReadMax: 128 * 1024,
          async get(id) {
            fs.blobReads++;
            const raw = messages.get(Number(id.slice(1)));
            if (!raw) throw new Error("no such blob");
            return raw;
          },
          // Absent (as for S3) unless batchReads is set; like the filesystem store, the
          // bytes come back as views of the shared buffer given.
          get readMany() {
            if (fs.batchReads === "off") return undefined;
            return async (blobs: readonly { id: string; size: number }[], into?: SharedArrayBuffer) => {
              await Bun.sleep(1); // another thread's answer comes later
              if (fs.batchReads === "fail") throw new Error("reader died");
              fs.batches.push(blobs.length);
              const sab = into ?? new SharedArrayBuffer(blobs.reduce((a, b) => a + b.size + 1, 0));
              let off = 0;
              return blobs.map((b) => {
                const uid = Number(b.id.slice(1));
                const raw = messages.get(uid);
                const at = off;
                off += b.size + 1;
                if (!raw || raw.length !== b.size || (fs.batchReads instanceof Set && fs.batchReads.has(uid))) return null;
                const view = new Uint8Array(sab, at, b.size);
                view.set(raw);
                return view;
              });
            };
          },
          readInto(id, size, buf, offset) {
            fs.blobReads++;
            const raw = messages.get(Number(id.slice(1)));
            if (!raw || fs.failReadInto) throw new Error("no such blob");
            if (raw.length !== size) throw new Error(`blob has ${raw.length} bytes, expected ${size}`);
            buf.set(raw, offset);
          },
        },
        async remove(mailboxId, uids) {
          if (fs.failRemove) throw new Error("disk on fire");
          fs.removed.push([...uids]);
          for (const u of uids) messages.delete(u);
          return [...uids];
        },
        onChange(cb) {
          listeners.add(cb);
          return () => listeners.delete(cb);
        },
        onAccountGone: () => () => {},
      },
    },
  };
  return fs;
}
