// The session skeleton shared by SMTP, IMAP and POP3: bytes in → a protocol's reader →
// one command at a time, in arrival order (pipelining), with the parts every line
// protocol needs written once: a bounded input buffer with backpressure (the socket is
// paused while a busy session holds too much unread input), the error limit, the
// pre-login and idle timeouts, and an orderly goodbye on shutdown. What a line means,
// and how the protocol says goodbye, stays in the protocol's session.
import type { Connection } from "./types.ts";

/** A protocol's parser of the byte stream (SMTP wire.ts, IMAP parser.ts, POP3 lines.ts). */
export interface SessionInput<E> {
  push(chunk: Buffer): void;
  /** The next complete unit (a command, a message, a literal-carrying command), or null. */
  next(): E | null;
  /** Input held but not handled yet, for backpressure: bytes (POP3 counts whole lines). */
  buffered(): number;
}

export interface SessionLimits {
  /** Pause reading when this much unread input waits behind a busy session … */
  highWater: number;
  /** … and resume when it falls to this. */
  lowWater: number;
  /** Protocol errors (5xx, BAD, -ERR for a bad command) before the session is ended. */
  maxErrors: number;
  /** Silence allowed before login (0 = none) … */
  preAuthMs: number;
  /** … and after it. */
  idleMs: number;
}

export interface SessionHandlers<E> {
  /** Run one unit of input; the next is not read before this settles (a handler that
   *  finished synchronously returns nothing: no promise per command). */
  handle(ev: E): Promise<void> | void;
  /** `handle` threw: answer with a temporary failure (an unknown error is temporary). */
  failed(err: unknown): void;
  /** The client was silent too long. Return false to start the timer again (a command is
   *  still running: the timeouts wait on the client, not on us). */
  timedOut(busy: boolean): boolean;
  /** The server is stopping. Return false to be asked again after the current command. */
  shutdown(busy: boolean): boolean;
  /** Bytes arrived while a handler waits for a raw line itself (IMAP AUTHENTICATE, IDLE):
   *  return true when it took them, so the queue is not pumped. */
  input?(): boolean;
  /** The pump ran dry (flush buffered replies). */
  drained?(): void;
  /** Reading was paused or resumed (IMAP's inflater follows the socket). */
  paused?(on: boolean): void;
  /** Fairness: while this holds (a message streaming in), reading pauses after each chunk
   *  for one turn of the event loop, so other connections are served meanwhile. */
  yieldWhile?(): boolean;
}

export type SessionConn = Pick<Connection, "closing" | "pause" | "resume" | "setIdleTimeout" | "log">;

export class SessionLoop<E> {
  private busy = false;
  private ready = false;
  private closed = false;
  private paused = false;
  private yielding = false;
  private shutdownPending = false;
  private errors = 0;
  private authed = false;
  /** The unit being handled goes on outside the loop (hold()). */
  private held = false;
  /** The pump is inside a handler's call (release() there needs no new pump). */
  private handling = false;

  constructor(
    private readonly conn: SessionConn,
    private readonly input: SessionInput<E>,
    private readonly limits: SessionLimits,
    private readonly h: SessionHandlers<E>,
  ) {
    this.armTimer();
    // The loop itself is the listener (handleEvent): no closure per session.
    if (conn.closing.aborted) queueMicrotask(() => this.handleEvent());
    else conn.closing.addEventListener("abort", this, { once: true });
  }

  /** The shutdown signal fired (EventListener interface). */
  handleEvent(): void {
    if (this.closed) return;
    if (!this.h.shutdown(this.busy)) this.shutdownPending = true;
  }

  get isBusy(): boolean {
    return this.busy;
  }

  /** Bytes from the socket (or from a decompressor in front of it). */
  feed(chunk: Buffer): void {
    if (this.closed) return;
    this.input.push(chunk);
    if (this.h.input?.()) return;
    void this.pump();
    if (this.busy && !this.paused && this.input.buffered() > this.limits.highWater) this.setPaused(true);
    if (!this.yielding && !this.paused && !this.closed && this.h.yieldWhile?.()) {
      this.yielding = true;
      this.conn.pause();
      setImmediate(() => {
        this.yielding = false;
        if (!this.paused && !this.closed) this.conn.resume();
      });
    }
  }

  /** Start handling input (after the greeting: SMTP waits for its connect hook). */
  start(): void {
    this.ready = true;
    void this.pump();
  }

  /** The session is over: nothing more is read or handled. */
  close(): void {
    this.closed = true;
    // The signal is shared by every connection of a listener set (core/listen.ts): leave it.
    this.conn.closing.removeEventListener("abort", this);
  }

  /** Called by a handler whose unit goes on after it returns, waiting on the client (IMAP
   *  IDLE until DONE): the loop handles nothing more until release(), and no call stays
   *  pending meanwhile (an idle session holds no promise chain). It counts as busy. */
  hold(): void {
    this.held = true;
  }

  /** The held unit is done: handle what arrived meanwhile. */
  release(): void {
    if (!this.held) return;
    this.held = false;
    if (this.handling) return;
    this.settle();
    void this.pump();
  }

  /** Count one protocol error; true when the limit is reached (the caller says goodbye). */
  error(): boolean {
    return ++this.errors >= this.limits.maxErrors;
  }

  /** Logged in (or back out, IMAP UNAUTHENTICATE): switches between the two timeouts. */
  authenticated(on: boolean): void {
    this.authed = on;
    this.armTimer();
  }

  /** Read again now (a handler waits for a raw line while the queue is paused). */
  resume(): void {
    if (this.paused) this.setPaused(false);
    else this.conn.resume();
  }

  private armTimer(): void {
    const ms = this.authed ? this.limits.idleMs : this.limits.preAuthMs;
    const onIdle = () => {
      if (this.closed) return;
      if (!this.h.timedOut(this.busy)) this.conn.setIdleTimeout(ms, onIdle);
    };
    this.conn.setIdleTimeout(ms, onIdle);
  }

  private setPaused(on: boolean): void {
    this.paused = on;
    if (on) this.conn.pause();
    else if (!this.yielding) this.conn.resume();
    this.h.paused?.(on);
  }

  private async pump(): Promise<void> {
    if (this.busy || this.closed || !this.ready) return;
    this.busy = true;
    try {
      while (!this.closed && !this.held) {
        if (this.shutdownPending && this.h.shutdown(false)) {
          this.shutdownPending = false;
          break;
        }
        const ev = this.input.next();
        if (ev === null) {
          // Whatever is held is an unfinished unit (a long literal): only more bytes help.
          if (this.paused) this.setPaused(false);
          break;
        }
        this.handling = true;
        try {
          const pending = this.h.handle(ev);
          if (pending) await pending;
        } catch (err) {
          this.conn.log.error("command failed", { err: (err as Error)?.message ?? String(err) });
          this.h.failed(err);
        } finally {
          this.handling = false;
        }
        if (this.paused && this.input.buffered() <= this.limits.lowWater) this.setPaused(false);
      }
    } finally {
      if (!this.held) this.settle();
    }
  }

  /** Not busy any more: a shutdown asked for meanwhile, replies flushed, reading resumed. */
  private settle(): void {
    this.busy = false;
    if (this.closed) return;
    if (this.shutdownPending && this.h.shutdown(false)) this.shutdownPending = false;
    this.h.drained?.();
    if (this.paused && this.input.buffered() <= this.limits.lowWater) this.setPaused(false);
  }
}
