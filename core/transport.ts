// The byte stream under a Connection (core/listen.ts): a Bun.listen socket on the plain
// ports (a few KB per idle socket, and writes straight to sendto), or a node:tls socket on
// the implicit-TLS ports and after STARTTLS (the tls.certificate hook answers SNI per
// handshake there; Bun's own TLS has no asynchronous SNI). DESIGN.md "Listeners and TLS".
import type * as net from "node:net";
import { Duplex } from "node:stream";
import * as tls from "node:tls";
import { scanClientHello } from "./client-hello.ts";

export interface TransportEvents {
  data(chunk: Buffer): void;
  error(err: Error): void;
  /** Once, whatever closed it. */
  close(): void;
}

export type ContextFor = (servername: string | undefined) => Promise<tls.SecureContext>;

export interface Transport {
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localAddress: string;
  readonly localPort: number;
  readonly destroyed: boolean;
  /** For the listener's accounting, apart from the connection's events. */
  onceClosed(cb: () => void): void;
  /** Set by the connection; events before it are not expected (it binds at once). */
  bind(ev: TransportEvents): void;
  write(data: string | Uint8Array): void;
  /** Writes are waiting for the peer to read. */
  readonly needDrain: boolean;
  /** Resolves when the waiting writes are out, or the transport closed. */
  waitDrain(): Promise<void>;
  pause(): void;
  resume(): void;
  /** Flush, then close. */
  end(): void;
  destroy(): void;
  /** Server-side TLS on this byte stream; resolves after the handshake. Events go to the
   *  returned transport from then on; the caller binds it. */
  startTls(contextFor: ContextFor, handshakeMs: number): Promise<{ transport: NodeTransport; servername?: string }>;
}

const NO_EVENTS: TransportEvents = { data() {}, error() {}, close() {} };

/** node:net / node:tls sockets (implicit-TLS ports, upgraded sessions). */
export class NodeTransport implements Transport {
  constructor(readonly socket: net.Socket) {}
  get remoteAddress() {
    return this.socket.remoteAddress ?? "?";
  }
  get remotePort() {
    return this.socket.remotePort ?? 0;
  }
  get localAddress() {
    return this.socket.localAddress ?? "?";
  }
  get localPort() {
    return this.socket.localPort ?? 0;
  }
  get destroyed() {
    return this.socket.destroyed;
  }
  onceClosed(cb: () => void): void {
    this.socket.once("close", cb);
  }
  bind(ev: TransportEvents): void {
    this.socket.on("data", ev.data);
    this.socket.on("error", ev.error);
    this.socket.on("close", ev.close);
  }
  write(data: string | Uint8Array): void {
    this.socket.write(data);
  }
  get needDrain() {
    return this.socket.writableNeedDrain;
  }
  waitDrain(): Promise<void> {
    const s = this.socket;
    return new Promise((res) => {
      const done = () => {
        s.off("drain", done);
        s.off("close", done);
        res();
      };
      s.on("drain", done);
      s.on("close", done);
    });
  }
  pause(): void {
    this.socket.pause();
  }
  resume(): void {
    this.socket.resume();
  }
  end(): void {
    this.socket.end();
  }
  destroy(): void {
    this.socket.destroy();
  }
  /** Node sockets here are TLS already (implicit-TLS ports, upgraded sessions). */
  startTls(): Promise<never> {
    return Promise.reject(new Error("already secure"));
  }
}

/** Waits for a server-side node:tls handshake (`secure`), or fails on error, close or timeout. */
function handshake(secure: tls.TLSSocket, ms: number): Promise<void> {
  return new Promise<void>((res, rej) => {
    const t = setTimeout(() => {
      rej(new Error("TLS handshake timed out"));
      secure.destroy();
    }, ms);
    const settle = (err?: Error) => {
      clearTimeout(t);
      secure.off("secure", ok);
      secure.off("error", settle);
      secure.off("close", closed);
      if (err) rej(err);
      else res();
    };
    const ok = () => settle();
    const closed = () => settle(new Error("closed during TLS handshake"));
    secure.once("secure", ok);
    secure.once("error", settle);
    secure.once("close", closed);
  });
}

/** What a Bun.listen socket carries in `socket.data`: its transport, once accepted. */
export interface BunSocketData {
  t?: BunTransport;
}
export type BunSocket = Bun.Socket<BunSocketData>;

/** The handlers of every Bun.listen listener (one object, shared by all sockets). */
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

/** A Bun.listen socket. Bun's write is unbuffered (it returns what the kernel took), so
 *  the rest waits here until the `drain` event. */
export class BunTransport implements Transport {
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localAddress: string;
  readonly localPort: number;
  private ev: TransportEvents = NO_EVENTS;
  private queue: Uint8Array[] = [];
  private drainWaiters: (() => void)[] = [];
  private ending = false;
  private closed = false;
  private closedCbs?: (() => void)[];

  constructor(readonly socket: BunSocket) {
    socket.data.t = this;
    this.remoteAddress = socket.remoteAddress;
    this.remotePort = socket.remotePort;
    this.localAddress = socket.localAddress;
    this.localPort = socket.localPort;
  }
  get destroyed() {
    return this.closed;
  }
  onceClosed(cb: () => void): void {
    if (this.closed) cb();
    else (this.closedCbs ??= []).push(cb);
  }
  bind(ev: TransportEvents): void {
    this.ev = ev;
  }
  onData(chunk: Buffer): void {
    this.ev.data(chunk);
  }
  onError(err: Error): void {
    this.ev.error(err);
  }
  onClose(): void {
    if (this.closed) return;
    this.closed = true;
    this.queue = [];
    this.wakeDrain();
    if (this.closedCbs) for (const cb of this.closedCbs) cb();
    this.ev.close();
  }
  write(data: string | Uint8Array): void {
    if (this.closed || this.ending) return;
    if (this.queue.length > 0) {
      this.queue.push(typeof data === "string" ? Buffer.from(data) : Buffer.from(data));
      return;
    }
    const n = this.socket.write(data);
    if (n < 0) return; // closed or shutting down: the close event follows
    const total = typeof data === "string" ? Buffer.byteLength(data) : data.byteLength;
    if (n < total) {
      // Copied: the caller may reuse its buffer once write returns (as with node streams).
      const rest = typeof data === "string" ? Buffer.from(data).subarray(n) : Buffer.from(data.subarray(n));
      this.queue.push(rest);
    }
  }
  onDrain(): void {
    while (this.queue.length > 0) {
      const head = this.queue[0]!;
      const n = this.socket.write(head);
      if (n < 0) return;
      if (n < head.byteLength) {
        this.queue[0] = head.subarray(n);
        return;
      }
      this.queue.shift();
    }
    this.wakeDrain();
    if (this.ending) this.socket.end();
  }
  private wakeDrain(): void {
    const w = this.drainWaiters;
    if (w.length === 0) return;
    this.drainWaiters = [];
    for (const res of w) res();
  }
  get needDrain() {
    return this.queue.length > 0;
  }
  waitDrain(): Promise<void> {
    if (this.closed || this.queue.length === 0) return Promise.resolve();
    return new Promise((res) => this.drainWaiters.push(res));
  }
  pause(): void {
    this.socket.pause();
  }
  resume(): void {
    this.socket.resume();
  }
  end(): void {
    if (this.closed || this.ending) return;
    this.ending = true;
    if (this.queue.length === 0) this.socket.end();
  }
  destroy(): void {
    if (this.closed) return;
    this.socket.terminate();
    this.onClose();
  }

  /** STARTTLS: read the ClientHello, ask for the certificate of its server name, then run
   *  node:tls over this socket (through a Duplex, given the hello first). */
  async startTls(contextFor: ContextFor, handshakeMs: number) {
    const deadline = Date.now() + handshakeMs;
    let got = Buffer.alloc(0);
    let scan = scanClientHello(got);
    const outer = this.ev;
    await new Promise<void>((res, rej) => {
      const t = setTimeout(() => rej(new Error("TLS handshake timed out")), handshakeMs);
      this.ev = {
        data: (chunk) => {
          got = Buffer.concat([got, chunk]);
          scan = scanClientHello(got);
          if (scan.kind === "done") {
            clearTimeout(t);
            this.pause(); // until the certificate is known: the rest goes to the duplex
            res();
          }
        },
        error: outer.error,
        close: () => {
          clearTimeout(t);
          rej(new Error("closed during TLS handshake"));
        },
      };
    });
    const servername = scan.kind === "done" ? scan.servername : undefined;
    const ctx = await contextFor(servername);
    if (this.closed) throw new Error("closed during TLS handshake");
    const d = new Duplex({
      read: () => this.resume(),
      write: (chunk: Buffer, _enc, cb) => {
        this.write(chunk);
        if (this.needDrain) void this.waitDrain().then(() => cb());
        else cb();
      },
      final: (cb) => {
        this.end();
        cb();
      },
      destroy: (err, cb) => {
        this.end();
        cb(err);
      },
    });
    this.ev = {
      data: (chunk) => {
        if (!d.push(chunk)) this.pause();
      },
      error: outer.error,
      close: () => {
        d.push(null);
        d.destroy();
      },
    };
    const secure = new tls.TLSSocket(d as unknown as net.Socket, { isServer: true, secureContext: ctx });
    d.push(got);
    this.resume();
    await handshake(secure, Math.max(1, deadline - Date.now()));
    return { transport: new NodeTransport(secure), servername };
  }
}
