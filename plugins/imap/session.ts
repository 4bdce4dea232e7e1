// One IMAP connection: the state machine of RFC 9051 §3 (not authenticated → authenticated
// → selected → logout), command dispatch, and the moments at which other sessions'
// changes are reported (§7.5.1: EXISTS/FETCH after any command, EXPUNGE never during
// FETCH, STORE or SEARCH).
import { isDiskFull } from "../../core/disk.ts";
import * as zlib from "node:zlib";
import type { AuthUser, Connection, Core } from "../../core/types.ts";
import type { StoreChange } from "../../core/store/types.ts";
import { isStoreError } from "../../core/store/errors.ts";
import { SessionLoop, type SessionHandlers, type SessionLimits } from "../../core/session.ts";
import { APPENDING, Args, CommandReader, ParseError, tokenize, type Chunk, type ReadEvent, type ReaderLimits } from "./parser.ts";
import { Selected } from "./selected.ts";
import { flagList, formatSet } from "./format.ts";
import { SYSTEM_FLAGS } from "./flags.ts";
import { commands } from "./commands/index.ts";
import { bad, no, type Ctx, type Result, type RunSpec } from "./command.ts";
import { encodeMutf7 } from "./names.ts";
import type { MailboxCache } from "./cache.ts";
import type { RecentMarks } from "./recent.ts";
import type { ImapEvent, ImapEvents } from "./events.ts";
import type { Sessions } from "./sessions.ts";
import { updateContexts, type UpdateContext } from "./contexts.ts";
import { flushNotify, noteChange, noteImapEvent, pendingNotify, type NotifyState } from "./notify.ts";

export type State = "notauth" | "auth" | "selected" | "logout";

export interface ImapOptions {
  maxLine: number;
  maxLiteral: number;
  appendLimit: number;
  maxBadCommands: number;
  maxAuthFailures: number;
  /** RFC 9051 §5.4: at least 30 minutes once authenticated. */
  idleTimeoutMs: number;
  preAuthTimeoutMs: number;
  hostname: string;
  /** Shared by the sessions of this process. */
  cache: MailboxCache;
  recent: RecentMarks;
  events: ImapEvents;
  /** The logged-in sessions, by account: they hear of changes through it. */
  sessions: Sessions;
}

const TAG_RE = /^[^\s(){%*"\\\]+\x00-\x1f\x7f]+$/;
/** Bytes buffered while a command runs before the socket is paused. */
const MAX_BUFFERED = 1024 * 1024;
const PREAUTH_LITERAL = 8192;
/** Output gathered before the session waits for the socket to drain (backpressure). */
const DRAIN_AT = 256 * 1024;

/** The loop limits, one object for all the sessions of a plugin instance. */
const limitsOf = new WeakMap<ImapOptions, SessionLimits>();
function sessionLimits(o: ImapOptions): SessionLimits {
  let l = limitsOf.get(o);
  if (!l) limitsOf.set(o, (l = { highWater: MAX_BUFFERED, lowWater: MAX_BUFFERED / 4, maxErrors: o.maxBadCommands, preAuthMs: o.preAuthTimeoutMs, idleMs: o.idleTimeoutMs }));
  return l;
}

/** The parser's limits, one object for all the sessions of a plugin instance. */
const readerLimitsOf = new WeakMap<ImapOptions, ReaderLimits>();
function readerLimits(o: ImapOptions): ReaderLimits {
  let l = readerLimitsOf.get(o);
  if (!l)
    readerLimitsOf.set(
      o,
      (l = {
        maxLine: o.maxLine,
        // Before login only small literals (a password); APPEND's message after.
        maxLiteral: (cmd, authenticated) => (!authenticated ? PREAUTH_LITERAL : APPENDING.has(cmd) ? o.appendLimit : o.maxLiteral),
        maxLiterals: o.maxLiteral * 4,
        maxLiteralCount: 64,
      }),
    );
  return l;
}

/** Who waits for the client's next raw line (Session.nextLine). */
export interface LineWaiter {
  line(line: string | "toolong" | null): void;
}

/** The session is its own loop's handler set (methods, not a closure each per session). */
export class Session implements SessionHandlers<ReadEvent> {
  state: State = "notauth";
  user: AuthUser | null = null;
  selected: Selected | null = null;
  /** ENABLEd extensions (RFC 5161), upper-case. */
  enabled = new Set<string>();
  /** CONDSTORE turned on by ENABLE or by a CONDSTORE-using command (RFC 7162 §3.1). */
  condstore = false;
  /** SEARCH RETURN (SAVE) result as UIDs, for "$" (RFC 5182). */
  searchRes: number[] | null = null;
  /** Live SEARCH/SORT results (RETURN (UPDATE), RFC 5267 §4), by tag. */
  contexts = new Map<string, UpdateContext>();
  authFailures = 0;
  idling = false;
  readonly reader: CommandReader;
  /** Input, backpressure, the BAD limit and the timeouts: the core's session skeleton. */
  private loop!: SessionLoop<ReadEvent>;
  private lineWaiter: LineWaiter | null = null;
  private idlePush: { push(): void } | null = null;
  private closed = false;
  /** COMPRESS=DEFLATE (RFC 4978): both directions go through raw deflate once active. */
  private inflater: zlib.InflateRaw | null = null;
  private deflater: zlib.DeflateRaw | null = null;

  constructor(
    readonly core: Core,
    readonly conn: Connection,
    readonly opts: ImapOptions,
  ) {
    this.reader = new CommandReader(readerLimits(opts));
  }

  // ---------- lifecycle ----------

  start(): void {
    const c = this.conn;
    this.loop = new SessionLoop<ReadEvent>(c, this.reader, sessionLimits(this.opts), this);
    c.onData((chunk) => (this.inflater ? this.inflater.write(chunk) : this.loop.feed(chunk)));
    c.onClose(() => this.onClose());
    if (c.closing.aborted) return this.bye("Server shutting down");
    // RFC 9051 §7.1.1: greeting with the capabilities.
    this.send(`* OK [CAPABILITY ${this.capabilities().join(" ")}] ${this.opts.hostname} IMAP4rev2 server ready`);
    this.loop.start();
  }

  // ---------- the loop's handlers (core/session.ts SessionHandlers) ----------

  /** A command threw: never an unhandled rejection, a bug in one session ends that session only. */
  failed(e: unknown): void {
    this.conn.log.error("imap session failed", { err: String((e as Error)?.stack ?? e) });
    this.bye("Internal error");
  }

  timedOut(): boolean {
    this.bye("Autologout; idle for too long");
    return true;
  }

  /** The server is stopping. */
  shutdown(): boolean {
    this.bye("Server shutting down");
    return true;
  }

  /** Bytes arrived: a command waiting for a raw line (AUTHENTICATE, IDLE) takes them. */
  input(): boolean {
    if (!this.lineWaiter) return false;
    const line = this.reader.readLine();
    if (line !== null) {
      const w = this.lineWaiter;
      this.lineWaiter = null;
      w.line(line);
    }
    return true;
  }

  /** The inflater follows the socket. */
  paused(on: boolean): void {
    if (on) this.inflater?.pause();
    else this.inflater?.resume();
  }

  private onClose(): void {
    this.closed = true;
    this.loop.close();
    this.setNotify(null);
    this.inflater?.destroy();
    this.deflater?.destroy();
    this.state = "logout";
    this.leaveSessions();
    this.endLineWait();
  }

  /** No more lines will come: whoever waits for one hears null. */
  private endLineWait(): void {
    const w = this.lineWaiter;
    this.lineWaiter = null;
    w?.line(null);
  }

  /** Untagged BYE, then close (RFC 9051 §7.1.5). */
  bye(text: string): void {
    if (this.closed) return;
    this.send(`* BYE ${text}`);
    this.end();
  }

  /** Send what is pending, read nothing more, close. */
  end(): void {
    this.flush();
    this.closed = true;
    this.loop.close();
    this.state = "logout";
    this.endLineWait();
    this.closeConn();
  }

  /** Close after the last bytes (compressed ones too) have gone out. */
  closeConn(): void {
    const def = this.deflater;
    if (def) def.flush(zlib.constants.Z_SYNC_FLUSH, () => this.conn.close());
    else this.conn.close();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  // ---------- output ----------
  // Responses are gathered and written in one go (one syscall per command, not per line);
  // a flush is also scheduled so nothing waits longer than the current turn.

  private out: (string | Uint8Array)[] = [];
  private outBytes = 0;
  private flushScheduled = false;
  /** A command is running and flushes with its tagged response: no flush per send is
   *  scheduled meanwhile (except under IDLE, whose pushes have no tagged response). */
  private inCommand = false;

  send(line: string): void {
    this.queue(line + "\r\n");
  }

  /** A response made of text and raw bytes (literals of message data). */
  sendParts(parts: (string | Uint8Array)[]): void {
    for (const p of parts) this.queue(p);
    this.queue("\r\n");
  }

  private queue(p: string | Uint8Array): void {
    if (this.closed) return;
    this.out.push(p);
    this.outBytes += p.length;
    if (this.outBytes > DRAIN_AT) this.flush();
    else if (!this.flushScheduled && (!this.inCommand || this.idling)) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /** Long answers (FETCH of many bodies) wait for a slow reader instead of piling up. */
  async drainIfNeeded(): Promise<void> {
    if (this.outBytes > DRAIN_AT / 4) this.flush();
    await this.conn.drain();
  }

  flush(): void {
    this.flushScheduled = false;
    if (this.out.length === 0 || this.closed) return;
    const parts = this.out;
    this.out = [];
    this.outBytes = 0;
    try {
      this.write(parts);
    } catch (e) {
      this.conn.log.warn("imap write failed", { err: String(e) });
      this.conn.destroy();
    }
  }

  private write(parts: (string | Uint8Array)[]): void {
    if (this.deflater) {
      for (const p of parts) this.deflater.write(p);
      this.deflater.flush(zlib.constants.Z_SYNC_FLUSH);
      return;
    }
    if (parts.length === 1) return this.conn.write(parts[0]!);
    // Runs of text become one string (one encode), bytes stay as they are.
    const bufs: Uint8Array[] = [];
    let text = "";
    for (const p of parts) {
      if (typeof p === "string") text += p;
      else {
        if (text) bufs.push(Buffer.from(text, "utf8"));
        text = "";
        bufs.push(p);
      }
    }
    if (bufs.length === 0) return this.conn.write(text);
    if (text) bufs.push(Buffer.from(text, "utf8"));
    this.conn.write(Buffer.concat(bufs));
  }

  // ---------- input ----------

  /** Hand the next raw line (IDLE's DONE) to `w`, now if it is there; null when the
   *  connection closed. */
  nextLine(w: LineWaiter): void {
    this.flush();
    const line = this.reader.readLine();
    if (line !== null) return w.line(line);
    if (this.closed) return w.line(null);
    this.loop.resume();
    this.lineWaiter = w;
  }

  /** The next raw line (AUTHENTICATE exchanges); null when the connection closed. */
  readLine(): Promise<string | "toolong" | null> {
    return new Promise((resolve) => this.nextLine({ line: resolve }));
  }

  /** One unit of input; a promise only while a command runs (not while one is held). */
  handle(ev: ReadEvent): Promise<void> | undefined {
    if (ev.kind === "continue") {
      this.send("+ Ready for literal data");
      this.flush();
      return;
    }
    if (ev.kind === "error") {
      this.send(`${ev.tag} ${ev.status} ${ev.code ? `[${ev.code}] ` : ""}${ev.text}`);
      if (ev.fatal) this.bye("Protocol error; closing");
      else this.countBad();
      return;
    }
    this.inCommand = true;
    const running = this.run(ev.chunks);
    if (running) return this.endAfter(running);
    this.commandEnded();
  }

  private async endAfter(running: Promise<void>): Promise<void> {
    try {
      await running;
    } finally {
      this.commandEnded();
    }
  }

  /** A held command (HoldSpec: IDLE) waits on the client: the loop handles nothing more
   *  until it ends with endHeld. */
  hold(): void {
    this.loop.hold();
  }

  /** The held command's tagged result (null: none, the connection is gone); then the
   *  commands that arrived meanwhile run. */
  async endHeld(tag: string, res: Result | null): Promise<void> {
    this.inCommand = true;
    try {
      await this.complete(tag, res, true);
    } catch (e) {
      this.failed(e);
    } finally {
      this.commandEnded();
      this.loop.release();
    }
  }

  get compressed(): boolean {
    return this.inflater !== null;
  }

  /** RFC 4978 §3: after the tagged OK, everything is compressed both ways; bytes the client
   *  sent after the command are already compressed. */
  startCompression(): void {
    const rest = this.reader.takeBuffered();
    const inf = zlib.createInflateRaw();
    const def = zlib.createDeflateRaw({ level: 6, memLevel: 8, windowBits: 15 });
    inf.on("data", (d: Buffer) => this.loop.feed(d));
    inf.on("error", () => this.conn.destroy());
    def.on("data", (d: Buffer) => this.conn.write(d));
    def.on("error", () => this.conn.destroy());
    this.inflater = inf;
    this.deflater = def;
    if (rest.length) inf.write(rest);
  }

  private countBad(): void {
    if (this.loop.error()) this.bye("Too many invalid commands");
  }

  /** (A command that ended without its tagged response, e.g. on a closed connection.) */
  private commandEnded(): void {
    this.inCommand = false;
    if (this.out.length && !this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /** Parse and dispatch one command: a promise while it runs, nothing when it answered at
   *  once (a syntax error) or is held (IDLE). */
  private run(chunks: Chunk[]): Promise<void> | undefined {
    let tag = "*";
    let tokens;
    try {
      tokens = tokenize(chunks);
    } catch (e) {
      const first = typeof chunks[0] === "string" ? chunks[0].split(" ")[0] : "";
      if (first && TAG_RE.test(first)) tag = first;
      this.send(`${tag} BAD ${e instanceof ParseError ? e.message : "Syntax error"}`);
      this.countBad();
      return;
    }
    const t0 = tokens[0];
    const t1 = tokens[1];
    if (!t0 || t0.t !== "atom" || !TAG_RE.test(t0.v)) {
      this.send("* BAD Missing or invalid tag");
      this.countBad();
      return;
    }
    tag = t0.v;
    if (!t1 || t1.t !== "atom") {
      this.send(`${tag} BAD Missing command`);
      this.countBad();
      return;
    }
    let name = t1.v.toUpperCase();
    let uid = false;
    let rest = 2;
    if (name === "UID") {
      const t2 = tokens[2];
      if (!t2 || t2.t !== "atom") {
        this.send(`${tag} BAD Missing command after UID`);
        this.countBad();
        return;
      }
      name = t2.v.toUpperCase();
      uid = true;
      rest = 3;
    }
    const spec = commands.get(name);
    if (!spec || (uid && !spec.uid)) {
      this.send(`${tag} BAD Unknown command`);
      this.countBad();
      return;
    }
    if (!spec.states.includes(this.state)) {
      this.send(`${tag} BAD ${uid ? "UID " : ""}${name} not allowed now`);
      return;
    }
    // RFC 9586 §3: once UIDONLY is on, commands taking message numbers need their UID form.
    if (spec.uid && !uid && this.uidOnly) {
      this.send(`${tag} BAD [UIDREQUIRED] Use UID ${name}`);
      this.countBad();
      return;
    }
    const c: Ctx = { tag, name, uid, args: new Args(tokens.slice(rest)) };
    if ("hold" in spec) {
      try {
        spec.hold(this, c);
        return;
      } catch (e) {
        return this.complete(tag, this.errorResult(name, e), true);
      }
    }
    return this.execute(spec, c);
  }

  private async execute(spec: RunSpec, c: Ctx): Promise<void> {
    let res: Result | null;
    try {
      res = await spec.run(this, c);
    } catch (e) {
      res = this.errorResult(c.name, e);
    }
    await this.complete(c.tag, res, c.uid || !spec.noExpunge);
  }

  /** The tagged result of a command that threw. */
  private errorResult(name: string, e: unknown): Result {
    if (e instanceof ParseError) return bad(e.message);
    // A full disk: storage is exhausted for now, not a bug and not a permanent refusal.
    if (isDiskFull(e)) return no("Disk full: nothing can be stored now, try again later", "OVERQUOTA");
    if (isStoreError(e)) {
      // The store's typed errors carry RFC 5530 response codes.
      const code = (e as Error & { code?: string }).code;
      return no((e as Error).message, code === "INVALID" ? "CANNOT" : code);
    }
    this.conn.log.error("imap command failed", { cmd: name, err: String((e as Error)?.stack ?? e) });
    return no("Internal error; try again later", "SERVERBUG");
  }

  /** After a command: the changes it may report (§7.5.1: no EXPUNGE during FETCH, STORE,
   *  SEARCH; their UID forms may), then its tagged response. */
  private async complete(tag: string, res: Result | null, allowExpunge: boolean): Promise<void> {
    if (res === null || this.closed) return;
    if (res.status === "BAD") this.countBad();
    try {
      if (this.selected?.dirty) await this.syncSelected(allowExpunge);
      if (this.contexts.size) await updateContexts(this);
      if (this.notify && pendingNotify(this.notify)) await flushNotify(this, this.notify);
    } catch (e) {
      this.conn.log.warn("imap sync failed", { err: String(e) });
    }
    this.send(`${tag} ${res.status} ${res.code ? `[${res.code}] ` : ""}${res.text}`);
    this.flush();
  }

  // ---------- capabilities and auth ----------

  plaintextAllowed(): boolean {
    return this.conn.plaintextLoginAllowed;
  }

  capabilities(): string[] {
    const caps = ["IMAP4rev1", "IMAP4rev2"];
    if (this.state === "notauth") {
      if (!this.conn.secure && this.conn.service !== "imaps") caps.push("STARTTLS");
      if (this.plaintextAllowed()) caps.push("AUTH=PLAIN");
      else caps.push("LOGINDISABLED");
    }
    caps.push(
      "SASL-IR",
      "LITERAL+",
      "ID",
      "ENABLE",
      "IDLE",
      "NAMESPACE",
      "UNSELECT",
      "UIDPLUS",
      "MOVE",
      "CONDSTORE",
      "QRESYNC",
      "SPECIAL-USE",
      "CREATE-SPECIAL-USE",
      "CHILDREN",
      "ESEARCH",
      "SEARCHRES",
      "LIST-EXTENDED",
      "LIST-STATUS",
      "STATUS=SIZE",
      "BINARY",
      `APPENDLIMIT=${this.opts.appendLimit}`,
      "UTF8=ACCEPT",
      "COMPRESS=DEFLATE",
      "SORT",
      "SORT=DISPLAY",
      "THREAD=ORDEREDSUBJECT",
      "THREAD=REFERENCES",
      "WITHIN",
      "PREVIEW",
      "ESORT",
      "CONTEXT=SEARCH",
      "CONTEXT=SORT",
      "PARTIAL",
      "SAVEDATE",
      "UNAUTHENTICATE",
      "UIDONLY",
      "METADATA",
      "METADATA-SERVER",
      "NOTIFY",
      "URLAUTH",
      "REPLACE",
      "MULTIAPPEND",
      "CATENATE",
      "QUOTA",
      "QUOTA=RES-STORAGE",
      "QUOTA=RES-MESSAGE",
      "OBJECTID",
    );
    return caps;
  }

  /** Become authenticated: hear of this account's changes (opts.sessions), and be ended
   *  when an admin disables or deletes it. */
  login(user: AuthUser): void {
    this.user = user;
    this.state = "auth";
    this.reader.authenticated = true;
    this.loop.authenticated(true);
    this.opts.sessions.add(user.accountId, this);
  }

  private leaveSessions(): void {
    if (this.user) this.opts.sessions.delete(this.user.accountId, this);
  }

  /** RFC 8437 UNAUTHENTICATE: back to the not-authenticated state, as if newly connected
   *  (TLS and compression stay): no mailbox, no ENABLEd extensions, no store events. */
  logoutToNotAuth(): void {
    this.deselect();
    this.leaveSessions();
    this.user = null;
    this.state = "notauth";
    this.reader.authenticated = false;
    this.enabled.clear();
    this.setNotify(null);
    this.condstore = false;
    this.authFailures = 0;
    this.loop.authenticated(false);
  }

  get accountId(): number {
    if (!this.user) throw new Error("not authenticated");
    return this.user.accountId;
  }

  /** UTF-8 on the wire (RFC 6855 UTF8=ACCEPT or IMAP4rev2): names and strings unencoded. */
  get utf8(): boolean {
    return this.enabled.has("UTF8=ACCEPT") || this.enabled.has("IMAP4REV2");
  }
  get rev2(): boolean {
    return this.enabled.has("IMAP4REV2");
  }
  get qresync(): boolean {
    return this.enabled.has("QRESYNC");
  }
  /** RFC 9586: no message sequence numbers either way. */
  get uidOnly(): boolean {
    return this.enabled.has("UIDONLY");
  }

  /** A mailbox name as this client spells it. */
  wireName(name: string): string {
    return this.utf8 ? name : encodeMutf7(name);
  }

  // ---------- changes from other sessions ----------

  /** A change in this account (opts.sessions calls it). */
  onStoreChange(ev: StoreChange): void {
    if (this.notify && ev.accountId === this.user?.accountId) noteChange(this, this.notify, ev);
    const sel = this.selected;
    if (!sel || ev.mailboxId !== sel.id || ev.accountId !== this.user?.accountId) return;
    // Our own flag changes and expunges were already reported by the command itself.
    if (ev.origin === this.conn.id && (ev.kind === "flags" || ev.kind === "expunge")) return;
    // New messages alone are known from the event; anything else needs a full look. So does
    // another process's append: the change feed read it a while ago, and the message may
    // have been expunged here since (it would come back as new).
    if (ev.kind === "append" && !ev.remote && !sel.needFull) for (const uid of ev.uids) sel.appended.push([uid, ev.modseq]);
    else sel.needFull = true;
    if (ev.kind === "mailbox") sel.mailboxChanged = true;
    if (ev.modseq > sel.heard) sel.heard = ev.modseq;
    sel.dirty = true;
    this.idlePush?.push();
  }

  /** IMAP-only changes (subscriptions without a mailbox, METADATA): only NOTIFY wants
   *  them, and never the session's own (it knows what it did). */
  onImapEvent(ev: ImapEvent): void {
    if (!this.notify || ev.origin === this.conn.id) return;
    if (ev.accountId !== this.user?.accountId && ev.accountId !== 0) return;
    noteImapEvent(this, this.notify, ev);
  }

  /** NOTIFY (RFC 5465) state; null when not asked for. */
  notify: NotifyState | null = null;

  setNotify(n: NotifyState | null): void {
    if (this.notify?.timer) clearTimeout(this.notify.timer);
    this.notify = n;
  }

  /** NOTIFY events go out at once unless a command is running (then before its tagged
   *  response); during IDLE too (RFC 5465 §3). */
  async flushNotifyIfIdle(): Promise<void> {
    if (!this.notify || this.closed) return;
    if (this.loop.isBusy && !this.idling) return;
    await flushNotify(this, this.notify);
    this.flush();
  }

  /** While IDLE runs: push changes as they come (RFC 2177), batched briefly. */
  setIdlePush(p: { push(): void } | null): void {
    this.idlePush = p;
  }

  /** Tell the client what changed in the selected mailbox since it last heard. */
  async syncSelected(allowExpunge: boolean): Promise<void> {
    const sel = this.selected;
    if (!sel || !sel.dirty) return;
    sel.dirty = false;
    const appended = sel.appended.sort((a, b) => a[0] - b[0]);
    sel.appended = [];
    // UIDs are given one after another: a new one past top + 1 means a message we have not
    // heard of (another process's, its event still to come) — shown by a full look, as
    // UIDs must ascend with sequence numbers (RFC 9051 §2.3.1.1).
    let next = sel.top + 1;
    for (const [uid, modseq] of appended) {
      if (modseq > sel.heard) sel.heard = modseq;
      if (uid === next) next++;
      else if (uid > next) sel.needFull = true;
    }
    if (!sel.needFull) {
      let added = 0;
      for (const [uid, modseq] of appended) {
        // (The same UID may come from the event and from APPEND's own result.)
        if (uid > (sel.uids.at(-1) ?? 0)) {
          sel.push(uid, modseq);
          added++;
        }
      }
      if (added > 0) await this.reportExists(sel, added);
      return;
    }
    sel.needFull = false;
    if (sel.mailboxChanged) {
      sel.mailboxChanged = false;
      // Deleted by another session: nothing sensible is left to show (as Dovecot does).
      if (!(await this.core.store.getMailboxById(sel.id))) return this.bye("Selected mailbox was deleted");
    }
    const list = await this.opts.cache.uidList(sel.id, sel.heard);
    if (this.selected !== sel || this.closed) return;
    const fresh = new Map<number, { modseq: number; flags: string[] }>();
    for (const m of list) fresh.set(m.uid, m);
    // Expunged messages: report (or keep in the map until we may).
    const gone: number[] = [];
    for (let i = sel.uids.length - 1; i >= 0; i--) if (!fresh.has(sel.uids[i]!)) gone.push(i);
    if (gone.length > 0) {
      if (!allowExpunge) sel.dirty = sel.needFull = true;
      else this.reportExpunged(gone.map((i) => sel.uids[i]!));
    }
    // Flag changes (a changed modseq).
    for (let i = 0; i < sel.uids.length; i++) {
      const m = fresh.get(sel.uids[i]!);
      if (m && m.modseq !== sel.modseqs[i]) {
        sel.setModseqAt(i, m.modseq);
        this.sendFetch(i + 1, sel.uids[i]!, this.flagItems(sel.uids[i]!, m.flags, m.modseq));
      }
    }
    // New messages: UIDs above the highest we know.
    const maxUid = sel.uids.length ? sel.uids[sel.uids.length - 1]! : 0;
    let added = 0;
    for (const m of list) {
      if (m.uid > maxUid) {
        sel.push(m.uid, m.modseq);
        added++;
      }
    }
    // In step with the store again: share the list's map with other sessions.
    if (!sel.needFull) sel.adopt(list);
    if (added > 0) await this.reportExists(sel, added);
  }

  /** EXISTS for `added` new messages at the end of the map; for IMAP4rev1 sessions also
   *  RECENT (RFC 3501 §7.3.2), the new ones claimed as \Recent if no session saw them yet. */
  private async reportExists(sel: Selected, added: number): Promise<void> {
    this.send(`* ${sel.uids.length} EXISTS`);
    if (this.rev2) return;
    const fresh = Array.from(sel.uids.subarray(sel.uids.length - added));
    const recent = sel.readOnly ? await this.opts.recent.peek(sel.id, fresh) : await this.opts.recent.claim(sel.id, fresh);
    for (const u of recent) if (sel.indexOf(u) >= 0) sel.recent.add(u);
    this.send(`* ${sel.recent.size} RECENT`);
  }

  /** The FLAGS list of a message as this session shows it: new keywords announced first,
   *  \Recent added for IMAP4rev1 sessions. */
  flagsOf(uid: number, flags: readonly string[]): string {
    const sel = this.selected;
    if (!sel) return flagList(flags);
    for (let i = 0; i < flags.length; i++) {
      const f = flags[i]!;
      if (f.charCodeAt(0) !== 92 /* \ */ && !sel.keywords.has(f)) this.announceKeywords(flags);
    }
    if (sel.recent.size && sel.recent.has(uid)) return flags.length ? `(${flags.join(" ")} \\Recent)` : "(\\Recent)";
    return flagList(flags);
  }

  /** RFC 9051 §7.3.5 / RFC 3501 §7.2.6: FLAGS (and PERMANENTFLAGS) updated before a FETCH
   *  shows a keyword the client has not heard of. */
  private announceKeywords(flags: readonly string[]): void {
    const sel = this.selected!;
    for (const f of flags) if (f.charCodeAt(0) !== 92) sel.keywords.add(f);
    this.sendFlags();
  }

  /** The FLAGS and PERMANENTFLAGS responses of SELECT (RFC 9051 §7.3.5, §7.1). */
  sendFlags(): void {
    const sel = this.selected!;
    const flags = [...SYSTEM_FLAGS, ...[...sel.keywords].sort()];
    this.send(`* FLAGS ${flagList(flags)}`);
    this.send(sel.readOnly ? "* OK [PERMANENTFLAGS ()] Read-only mailbox" : `* OK [PERMANENTFLAGS ${flagList([...flags, "\\*"])}] Flags permitted`);
  }

  /** An untagged FETCH whose items start with "UID n"; under UIDONLY (RFC 9586 §3.3) a
   *  UIDFETCH named by the UID instead, without the UID item. */
  sendFetch(seq: number, uid: number, items: string): void {
    if (this.uidOnly) this.send(`* ${uid} UIDFETCH (${items.replace(/^UID \d+ ?/, "")})`);
    else this.send(`* ${seq} FETCH (${items})`);
  }

  /** FLAGS/UID/MODSEQ items of an unsolicited or STORE FETCH response. */
  flagItems(uid: number, flags: readonly string[], modseq: number): string {
    return `UID ${uid} FLAGS ${this.flagsOf(uid, flags)}${this.condstore ? ` MODSEQ (${modseq})` : ""}`;
  }

  /** RFC 7162 §3.1: the first CONDSTORE-enabling command while a mailbox is selected
   *  tells the client the mailbox's HIGHESTMODSEQ. */
  async enableCondstore(): Promise<void> {
    if (this.condstore) return;
    this.condstore = true;
    const sel = this.selected;
    if (!sel) return;
    const mb = await this.core.store.getMailboxById(sel.id);
    if (mb && this.selected === sel) this.send(`* OK [HIGHESTMODSEQ ${mb.highestModseq}] Highest`);
  }

  /** Report expunged UIDs that are in the map, and drop them from it:
   *  VANISHED under QRESYNC (RFC 7162 §3.2.10), else EXPUNGE by descending number. */
  reportExpunged(uids: number[]): void {
    const sel = this.selected;
    if (!sel) return;
    const idx = uids
      .map((u) => sel.indexOf(u))
      .filter((i) => i >= 0)
      .sort((a, b) => b - a);
    if (idx.length === 0) return;
    if (this.qresync || this.uidOnly) {
      this.send(`* VANISHED ${formatSet(idx.map((i) => sel.uids[i]!))}`);
      for (const i of idx) sel.removeAt(i);
      return;
    }
    for (const i of idx) {
      this.send(`* ${i + 1} EXPUNGE`);
      sel.removeAt(i);
    }
  }

  /** Leave the selected state (CLOSE, UNSELECT, a new SELECT). */
  deselect(): void {
    this.selected = null;
    this.searchRes = null;
    this.contexts.clear();
    if (this.state === "selected") this.state = "auth";
  }
}
