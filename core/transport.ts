// The byte stream under a Connection (core/listen.ts): a Bun.listen socket, plain or, after
// STARTTLS or on an implicit-TLS port, upgraded in place to Bun's native TLS
// (`socket.upgradeTLS`). Bun's TLS asks the `serverName` handler for a client's SNI name and
// waits for `resumeSNI`, so the asynchronous tls.certificate hook answers per handshake.
// No node streams on the data path. DESIGN.md "Listeners and TLS".
import type * as tls from "node:tls";
import { ackNow } from "./quickack.ts";
import type { TlsInfo } from "./types.ts";

/** What a transport tells its connection (methods of the connection itself: no closures). */
export interface TransportEvents {
  data(chunk: Buffer): void;
  error(err: Error): void;
  /** Once, whatever closed it. */
  ended(): void;
}

export type ContextFor = (servername: string | undefined) => Promise<tls.SecureContext>;

/** What a Bun socket carries in `socket.data`: its transport, and on a TLS socket the
 *  certificate lookup its `serverName` handler asks. */
export interface BunSocketData {
  t?: BunTransport;
  sni?: ContextFor;
}
export type BunSocket = Bun.Socket<BunSocketData>;

/** Bun's handler for a ClientHello's server_name (not in bun-types): a native secure
 *  context, undefined (the default one), or `true` and a later `resumeSNI(context, failed)`
 *  on the socket handle. */
type ServerNameHandler = (data: BunSocketData | undefined, servername: string, handle: { resumeSNI(ctx: unknown, failed: boolean): void }) => unknown;

/** The native context inside a node:tls SecureContext (what Bun's TLS options take). */
export const nativeContext = (c: tls.SecureContext): unknown => (c as unknown as { context: unknown }).context;

/** A TLS handshake that did not finish in time (the listener counts these). */
export class HandshakeTimeout extends Error {
  constructor() {
    super("TLS handshake timed out");
  }
}

const NO_EVENTS: TransportEvents = { data() {}, error() {}, ended() {} };

/** The handlers of every plain Bun.listen listener (one object, shared by all sockets). */
export const bunHandlers = (open: (s: BunSocket) => void): Bun.SocketHandler<BunSocketData> => ({
  open(s) {
    s.data = {};
    s.setNoDelay(true);
    open(s);
  },
  data: (s, chunk) => s.data.t?.onData(chunk),
  drain: (s) => s.data.t?.onDrain(),
  error: (s, err) => s.data.t?.onError(err),
  close: (s) => s.data.t?.onClose(),
});

const serverName: ServerNameHandler = (data, servername, handle) => {
  const sni = data?.sni;
  if (!sni) return undefined;
  sni(servername).then(
    (ctx) => handle.resumeSNI(nativeContext(ctx), false),
    () => handle.resumeSNI(undefined, true),
  );
  return true;
};

/** The handlers of every upgraded (TLS) socket. `open` runs inside upgradeTLS. */
const tlsHandlers = {
  open(s: BunSocket) {
    s.data.t?.adopt(s);
  },
  handshake(s: BunSocket, ok: boolean, _authError: Error | null) {
    // authError is about the client's certificate, which is not asked for.
    if (ok) ackNow((s as unknown as { fd?: number }).fd); // the client's Finished: see core/quickack.ts
    s.data.t?.onHandshake(ok);
  },
  data: (s: BunSocket, chunk: Buffer) => s.data.t?.onData(chunk),
  drain: (s: BunSocket) => s.data.t?.onDrain(),
  error: (s: BunSocket, err: Error) => s.data.t?.onError(err),
  close: (s: BunSocket) => s.data.t?.onClose(),
  serverName,
} as Bun.SocketHandler<BunSocketData>;

/** The handlers of an implicit-TLS Bun.listen listener (Bun's TLS from the first byte):
 *  `open` runs before the handshake; the listener's `data` carries `sni`. */
export const bunTlsHandlers = (open: (s: BunSocket) => void): Bun.SocketHandler<BunSocketData> =>
  ({
    ...bunHandlers(open),
    handshake: tlsHandlers.handshake,
    serverName,
  }) as Bun.SocketHandler<BunSocketData>;

interface Addresses {
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localAddress: string;
  readonly localPort: number;
}

/** A Bun socket, plain or TLS. Bun's write is unbuffered (it returns what it took), so the
 *  rest waits here until the `drain` event. */
export class BunTransport {
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localAddress: string;
  readonly localPort: number;
  socket!: BunSocket;
  /** A TLS socket (upgraded, handshake done). */
  secure = false;
  private ev: TransportEvents = NO_EVENTS;
  private queue?: Uint8Array[];
  private drainWaiters?: (() => void)[];
  private ending = false;
  private closed = false;
  private closedCb?: () => void;
  /** Data before bind() (see there). */
  private early?: Buffer[];
  /** Settles the handshake of an upgrade in progress. */
  private handshakeDone?: (err?: Error) => void;

  /** From a plain socket, or (upgrade) from the transport it replaces: same addresses. */
  constructor(from: BunSocket | Addresses) {
    this.remoteAddress = from.remoteAddress;
    this.remotePort = from.remotePort;
    this.localAddress = from.localAddress;
    this.localPort = from.localPort;
  }
  static accept(s: BunSocket): BunTransport {
    const t = new BunTransport(s);
    t.adopt(s);
    return t;
  }
  adopt(s: BunSocket): void {
    this.socket = s;
    s.data.t = this;
  }
  get destroyed() {
    return this.closed;
  }
  /** ONE callback (the listener's accounting, or the TLS transport's link to its raw
   *  socket), apart from the connection's events. */
  onceClosed(cb: () => void): void {
    if (this.closed) cb();
    else this.closedCb = cb;
  }
  /** Set by the connection. A plain socket is bound at once; a TLS one after the handshake
   *  has resolved, and the client's first command may have come (and the socket closed) in
   *  between: that is kept and replayed here. */
  bind(ev: TransportEvents): void {
    this.ev = ev;
    const early = this.early;
    this.early = undefined;
    if (early) for (const chunk of early) ev.data(chunk);
    if (this.closed) ev.ended();
  }
  onData(chunk: Buffer): void {
    if (this.ev === NO_EVENTS) (this.early ??= []).push(Buffer.from(chunk));
    else this.ev.data(chunk);
  }
  onError(err: Error): void {
    this.ev.error(err);
  }
  onClose(): void {
    if (this.closed) return;
    this.closed = true;
    this.queue = undefined;
    this.wakeDrain();
    this.handshakeDone?.(new Error("closed during TLS handshake"));
    this.closedCb?.();
    this.ev.ended();
  }
  onHandshake(ok: boolean): void {
    if (ok) this.secure = true;
    this.handshakeDone?.(ok ? undefined : new Error("TLS handshake failed"));
  }
  write(data: string | Uint8Array): void {
    if (this.closed || this.ending) return;
    if (this.queue) {
      this.queue.push(typeof data === "string" ? Buffer.from(data) : Buffer.from(data));
      return;
    }
    const n = this.socket.write(data);
    if (n < 0) return; // closed or shutting down: the close event follows
    const total = typeof data === "string" ? Buffer.byteLength(data) : data.byteLength;
    if (n < total) {
      // Copied: the caller may reuse its buffer once write returns (as with node streams).
      const rest = typeof data === "string" ? Buffer.from(data).subarray(n) : Buffer.from(data.subarray(n));
      this.queue = [rest];
    }
  }
  onDrain(): void {
    const q = this.queue;
    while (q && q.length > 0) {
      const head = q[0]!;
      const n = this.socket.write(head);
      if (n < 0) return;
      if (n < head.byteLength) {
        q[0] = head.subarray(n);
        return;
      }
      q.shift();
    }
    this.queue = undefined;
    this.wakeDrain();
    if (this.ending) this.socket.end();
  }
  private wakeDrain(): void {
    const w = this.drainWaiters;
    if (!w) return;
    this.drainWaiters = undefined;
    for (const res of w) res();
  }
  /** Writes are waiting for the peer to read. */
  get needDrain() {
    return this.queue !== undefined;
  }
  /** Resolves when the waiting writes are out, or the transport closed. */
  waitDrain(): Promise<void> {
    if (this.closed || !this.queue) return Promise.resolve();
    return new Promise((res) => (this.drainWaiters ??= []).push(res));
  }
  pause(): void {
    this.socket.pause();
  }
  resume(): void {
    this.socket.resume();
  }
  /** Flush, then close. */
  end(): void {
    if (this.closed || this.ending) return;
    this.ending = true;
    if (!this.queue) this.socket.end();
  }
  destroy(): void {
    if (this.closed) return;
    this.socket?.terminate();
    this.onClose();
  }
  tlsInfo(): TlsInfo {
    const c = this.socket.getCipher() as { standardName?: string; name?: string } | null;
    return {
      protocol: this.socket.getTLSVersion() ?? "TLS",
      cipher: c?.standardName ?? c?.name ?? "unknown",
      servername: this.socket.getServername() || undefined,
    };
  }

  /** Resolves when this TLS socket's handshake is done; fails on a handshake error, a
   *  close, or after `ms` (HandshakeTimeout). */
  handshaken(ms: number): Promise<void> {
    return new Promise<void>((res, rej) => {
      const timer = setTimeout(() => this.handshakeDone?.(new HandshakeTimeout()), ms);
      this.handshakeDone = (err) => {
        this.handshakeDone = undefined;
        clearTimeout(timer);
        if (err) rej(err);
        else res();
      };
    });
  }

  /** Server-side TLS on this socket (STARTTLS): the
   *  default certificate up front, a client's SNI name asked of `contextFor` during the
   *  handshake. Resolves with the TLS transport, after the handshake; the caller binds it. */
  async startTls(contextFor: ContextFor, handshakeMs: number): Promise<BunTransport> {
    if (this.secure) throw new Error("already secure");
    // Nothing is read until the upgrade: an early ClientHello waits in the kernel.
    this.pause();
    const deadline = Date.now() + handshakeMs;
    // The reply before STARTTLS must leave in plaintext first.
    if (this.queue) await this.waitDrain();
    const fallback = await contextFor(undefined);
    if (this.closed) throw new Error("closed during TLS handshake");
    const up = new BunTransport(this);
    const done = up.handshaken(Math.max(1, deadline - Date.now()));
    // The raw socket now carries ciphertext: its data is not ours; its close is the TLS one's.
    this.ev = { data() {}, error() {}, ended: () => up.onClose() };
    up.onceClosed(() => this.onClose());
    try {
      this.socket.upgradeTLS<BunSocketData>({ data: { t: up, sni: contextFor }, tls: { secureContext: nativeContext(fallback) } as Bun.TLSOptions, socket: tlsHandlers });
    } catch (e) {
      up.handshakeDone?.(e as Error);
    }
    try {
      await done;
    } catch (e) {
      up.destroy();
      this.destroy();
      throw e;
    }
    return up;
  }
}

export type Transport = BunTransport;
