// TCP listeners: plain, implicit TLS, and the STARTTLS upgrade; per-IP connection limits,
// idle timeouts, graceful shutdown (DESIGN.md "Listeners and TLS").
import { connections, connectionsRefused, sessions } from "./metrics.ts";
import * as tls from "node:tls";
import { BunTransport, bunHandlers, bunTlsHandlers, HandshakeTimeout, nativeContext, type BunSocketData, type ContextFor, type Transport, type TransportEvents } from "./transport.ts";
import type { Connection, ConnState, Listener, ListenSpec, Logger, Reply, Tls, TlsInfo } from "./types.ts";

/** Connections refused or dropped by the limits, since start (logged too). */
export interface ListenerStats {
  open: number;
  refusedGlobalCap: number;
  refusedPerIp: number;
  tlsHandshakeTimeouts: number;
}

export interface ListenerSetOptions {
  address: string;
  portOffset: number;
  /** Connections per client IP, per listener (README: an office behind one NAT address). */
  maxPerIp: number;
  /** Open connections over all listeners (TLS handshakes in progress included). */
  maxConnections?: number;
  /** A client on an implicit-TLS port must finish its handshake within this. */
  tlsHandshakeTimeoutMs?: number;
  log: Logger;
  tls: Tls;
  /** `auth.allowPlaintextOnLoopback`, read per login (a reload changes it). */
  allowPlaintextOnLoopback?: () => boolean;
  /** Bind with SO_REUSEPORT: other processes of this server share the ports (core/procs.ts). */
  reusePort?: boolean;
  /** Exact ports by listener name (a worker binds its primary's), over the offset rule. */
  ports?: Record<string, number>;
}

export interface ListenerSet {
  listen(spec: ListenSpec): Promise<Listener>;
  readonly stats: ListenerStats;
  readonly listeners: Listener[];
  /** Port after the offset for a standard port (0 stays 0: any free port). */
  portFor(standard: number): number;
  /** Track a listener bound elsewhere (the HTTP server) for the banner and shutdown. */
  adopt(l: Listener): void;
  /** Stop accepting, signal sessions to finish, wait up to graceMs, then destroy the rest. */
  shutdown(graceMs: number): Promise<void>;
}

let connSeq = 0;

export function isLoopback(addr: string): boolean {
  return addr === "::1" || addr.startsWith("127.") || addr.startsWith("::ffff:127.");
}

/** Secure contexts for the tls.certificate hook's answers, cached by certificate (not by
 *  servername: a client's random SNI names must not grow the cache); a reload clears it. */
function sniContexts(t: Tls, log: Logger) {
  const cache = new Map<string, tls.SecureContext>();
  t.onChange(() => cache.clear());
  return async (servername: string | undefined): Promise<tls.SecureContext> => {
    const c = await t.certificateFor(servername);
    const hit = cache.get(c.cert);
    if (hit) return hit;
    const ctx = tls.createSecureContext({ key: c.key, cert: c.cert, minVersion: "TLSv1.2" });
    cache.set(c.cert, ctx);
    log.debug("tls context", { servername: servername ?? "" });
    return ctx;
  };
}

const idleFired = (conn: Conn): void => conn.idle();

/** What every connection of one listener shares (one object per listener, not per connection). */
interface ConnShared {
  readonly service: string;
  readonly log: Logger;
  readonly contextFor: ContextFor;
  /** Aborted once, at shutdown: every connection's `closing`. */
  readonly closing: AbortSignal;
  readonly handshakeMs: number;
  readonly plaintextOnLoopback: () => boolean;
  /** The listener's bookkeeping when a connection ends (before the session's onClose). */
  readonly ended: (conn: Conn) => void;
}

type DataCb = (chunk: Buffer) => void;

/** A connection. Kept small (1,000 idle sessions are a goal): per-listener settings are
 *  shared, the transport's events are methods (no closures), the callbacks are usually one,
 *  the child logger is made on first use. */
class Conn implements Connection, TransportEvents {
  readonly id = `c${++connSeq}`;
  readonly state: ConnState = {};
  readonly isLoopback: boolean;
  secure: boolean;
  tls?: TlsInfo;
  private dataCbs?: DataCb | DataCb[];
  private closeCbs?: (() => void)[];
  private done = false;
  private idleMs = 0;
  private idleTimer?: ReturnType<typeof setTimeout>;
  private onIdle?: () => void;
  private childLog?: Logger;
  /** The socket under TLS after STARTTLS: destroy() must reach it too (a peer that never reads). */
  private raw?: Transport;

  constructor(
    private t: Transport,
    private readonly shared: ConnShared,
  ) {
    this.isLoopback = isLoopback(t.remoteAddress);
    this.secure = t.secure;
    t.bind(this);
    if (t.secure) this.tls = t.tlsInfo();
  }

  get service(): string {
    return this.shared.service;
  }
  get log(): Logger {
    return (this.childLog ??= this.shared.log.child({ conn: this.id }));
  }
  get remoteAddress(): string {
    return this.t.remoteAddress;
  }
  get remotePort(): number {
    return this.t.remotePort;
  }
  get localAddress(): string {
    return this.t.localAddress;
  }
  get localPort(): number {
    return this.t.localPort;
  }
  /** One signal for every connection of the set (an AbortController per connection is
   *  ~1.3–1.9 KB of RSS). */
  get closing(): AbortSignal {
    return this.shared.closing;
  }

  /** DESIGN.md: passwords only over TLS, or from loopback when the config allows it (tests). */
  get plaintextLoginAllowed(): boolean {
    return this.secure || (this.isLoopback && this.shared.plaintextOnLoopback());
  }

  // TransportEvents
  data(chunk: Buffer): void {
    this.idleTimer?.refresh();
    const d = this.dataCbs;
    if (typeof d === "function") d(chunk);
    else if (d) for (const cb of d) cb(chunk);
  }
  error(err: Error): void {
    this.log.debug("socket error", { err: err.message });
  }
  ended(): void {
    this.finish();
  }

  private finish(): void {
    if (this.done) return;
    this.done = true;
    clearTimeout(this.idleTimer);
    this.shared.ended(this);
    for (const cb of this.closeCbs ?? []) {
      try {
        cb();
      } catch (err) {
        this.log.error("close handler failed", { err: (err as Error).message });
      }
    }
  }

  get isClosed(): boolean {
    return this.done;
  }

  onData(cb: DataCb): void {
    const d = this.dataCbs;
    this.dataCbs = d === undefined ? cb : typeof d === "function" ? [d, cb] : [...d, cb];
  }
  onClose(cb: () => void): void {
    if (this.done) queueMicrotask(cb);
    else (this.closeCbs ??= []).push(cb);
  }
  write(data: string | Uint8Array): void {
    if (!this.done && !this.t.destroyed) this.t.write(data);
  }
  /** The transport copies what the socket did not take at once (BunTransport.write), so
   *  the caller may always refill its buffer after this returns. */
  writeReusable(data: Uint8Array): boolean {
    this.write(data);
    return true;
  }
  drain(): Promise<void> {
    if (this.done || !this.t.needDrain) return Promise.resolve();
    return this.t.waitDrain();
  }
  pause(): void {
    this.t.pause();
  }
  resume(): void {
    this.t.resume();
  }

  async upgradeTls(): Promise<void> {
    if (this.secure) throw new Error("already secure");
    let up: Transport;
    try {
      up = await this.t.startTls(this.shared.contextFor, this.shared.handshakeMs);
    } catch (e) {
      this.log.info("starttls failed", { err: (e as Error).message });
      this.destroy();
      throw e;
    }
    this.raw = this.t;
    this.t = up;
    this.secure = true;
    this.tls = up.tlsInfo();
    up.bind(this); // may replay a command that came with the handshake's end
    this.log.debug("starttls", { ...this.tls });
  }

  setIdleTimeout(ms: number, onIdle?: () => void): void {
    this.idleMs = ms;
    this.onIdle = onIdle;
    clearTimeout(this.idleTimer);
    if (ms > 0) this.idleTimer = setTimeout(idleFired, ms, this);
  }
  /** The idle timer fired (idleFired: one function for every connection, no closure each). */
  idle(): void {
    this.log.info("idle timeout", { ms: this.idleMs });
    if (this.onIdle) this.onIdle();
    else this.close();
  }

  close(): void {
    if (this.done) return;
    this.t.end();
    // A peer that never reads must not keep the socket forever.
    setTimeout(() => this.destroy(), 5_000).unref?.();
  }
  destroy(): void {
    this.t.destroy();
    this.raw?.destroy();
    this.finish();
  }
}

const DEFAULT_MAX_CONNECTIONS = 5000;
const DEFAULT_TLS_HANDSHAKE_MS = 10_000;
/** At most one "connection cap reached" log line per this interval (a flood must not flood the log). */
const CAP_LOG_INTERVAL_MS = 10_000;

export function createListenerSet(opts: ListenerSetOptions): ListenerSet {
  const listeners: Listener[] = [];
  const conns = new Set<Conn>();
  const perIp = new Map<string, number>();
  const contextFor = sniContexts(opts.tls, opts.log);
  const maxConnections = opts.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
  const handshakeMs = opts.tlsHandshakeTimeoutMs ?? DEFAULT_TLS_HANDSHAKE_MS;
  const plaintextOnLoopback = opts.allowPlaintextOnLoopback ?? (() => false);
  /** Aborted once, at shutdown: every connection's `closing`. */
  const shutdownAc = new AbortController();
  const stats: ListenerStats = { open: 0, refusedGlobalCap: 0, refusedPerIp: 0, tlsHandshakeTimeouts: 0 };
  let stopping = false;
  // Hot reload: every handshake asks the tls.certificate hook (with the client's SNI name,
  // or none for the default certificate) and sniContexts drops its contexts on a change.
  // Open connections keep the certificate they were given.
  const tlsRebinds = new Set<() => Promise<void>>();
  const unsubscribe = opts.tls.onChange(() => {
    opts.log.info("certificates reloaded: new handshakes get them", { listeners: tlsRebinds.size });
    for (const rebind of tlsRebinds) void rebind();
  });

  const closedOne = () => void stats.open--;
  let capLoggedAt = 0;
  let capRefusedSinceLog = 0;

  /** Every raw socket (before any TLS handshake) passes here: the global cap. */
  function admit(spec: ListenSpec, t: Transport): boolean {
    if (stopping) {
      t.destroy();
      return false;
    }
    if (stats.open >= maxConnections) {
      stats.refusedGlobalCap++;
      connectionsRefused.inc({ listener: spec.name, reason: "global_cap" });
      capRefusedSinceLog++;
      const now = Date.now();
      if (now - capLoggedAt >= CAP_LOG_INTERVAL_MS) {
        opts.log.warn("connection cap reached: refusing new connections", { cap: maxConnections, open: stats.open, refused: capRefusedSinceLog, service: spec.name, ip: t.remoteAddress });
        capLoggedAt = now;
        capRefusedSinceLog = 0;
      }
      if (spec.mode === "implicit-tls" || !spec.onRefuse) {
        // No TLS session to speak in (and no handshake work spent on it): just close.
        t.destroy();
      } else {
        const conn = new Conn(t, sharedOf(spec));
        spec.onRefuse(conn, { code: 421, enhanced: "4.3.2", text: "Server busy: too many connections, try again later" });
        conn.close();
      }
      return false;
    }
    stats.open++;
    t.onceClosed(closedOne);
    return true;
  }

  /** Implicit TLS: the session once the handshake is done, within handshakeMs. */
  function handshake(spec: ListenSpec, t: Transport): void {
    t.handshaken(handshakeMs).then(
      () => accept(spec, t),
      (err: Error) => {
        t.destroy();
        if (err instanceof HandshakeTimeout) {
          stats.tlsHandshakeTimeouts++;
          connectionsRefused.inc({ listener: spec.name, reason: "tls_handshake_timeout" });
          opts.log.info("tls handshake timeout", { service: spec.name, ip: t.remoteAddress, ms: handshakeMs });
        } else opts.log.debug("tls client error", { service: spec.name, err: err.message });
      },
    );
  }

  /** Per listener: its settings for every connection, and its certificates: its own
   *  (ListenSpec.certificate) or the tls.certificate hook's by SNI name. */
  const shared = new WeakMap<ListenSpec, ConnShared>();
  function sharedOf(spec: ListenSpec): ConnShared {
    let sh = shared.get(spec);
    if (sh) return sh;
    const own = spec.certificate;
    let ownCtx: Promise<tls.SecureContext> | undefined;
    sh = {
      service: spec.name,
      log: opts.log,
      contextFor: own ? () => (ownCtx ??= own().then((pem) => tls.createSecureContext({ ...pem, minVersion: "TLSv1.2" }))) : contextFor,
      closing: shutdownAc.signal,
      handshakeMs,
      plaintextOnLoopback,
      ended(conn) {
        if (!conns.delete(conn)) return; // refused at the global cap: never counted
        sessions.dec({ listener: spec.name });
        const key = `${spec.name} ${conn.remoteAddress}`;
        const left = (perIp.get(key) ?? 1) - 1;
        if (left <= 0) perIp.delete(key);
        else perIp.set(key, left);
        opts.log.debug("disconnected", { conn: conn.id });
      },
    };
    shared.set(spec, sh);
    return sh;
  }

  function accept(spec: ListenSpec, t: Transport): void {
    if (stopping) {
      t.destroy();
      return;
    }
    const conn = new Conn(t, sharedOf(spec));
    const ip = conn.remoteAddress;
    const key = `${spec.name} ${ip}`;
    const n = (perIp.get(key) ?? 0) + 1;
    perIp.set(key, n);
    conns.add(conn);
    connections.inc({ listener: spec.name });
    sessions.inc({ listener: spec.name });
    opts.log.debug("connected", { conn: conn.id, service: spec.name, ip, port: conn.remotePort });
    if (n > opts.maxPerIp) {
      stats.refusedPerIp++;
      const reply: Reply = { code: 421, enhanced: "4.7.0", text: "Too many connections from your address" };
      conn.log.warn("connection limit per address", { service: spec.name, ip, count: n });
      connectionsRefused.inc({ listener: spec.name, reason: "per_ip_limit" });
      if (spec.onRefuse) spec.onRefuse(conn, reply);
      conn.close();
      return;
    }
    try {
      spec.onConnection(conn);
    } catch (err) {
      conn.log.error("session start failed", { err: (err as Error).message });
      conn.destroy();
    }
  }

  const bindError = (spec: ListenSpec, port: number, e: unknown) => new Error(`cannot listen on ${opts.address}:${port} (${spec.name}): ${(e as Error).message}`);

  /** Plain ports (STARTTLS ones too): Bun.listen, a few KB per idle socket, writes straight
   *  to the kernel. */
  function listenPlain(spec: ListenSpec, port: number): Listener {
    let server: Bun.TCPSocketListener<BunSocketData>;
    try {
      server = Bun.listen<BunSocketData>({
        hostname: opts.address,
        port,
        // Without reusePort the bind is exclusive (a taken port fails, as with node:net).
        ...(opts.reusePort && { reusePort: true }),
        socket: bunHandlers((s) => {
          const t = BunTransport.accept(s);
          if (admit(spec, t)) accept(spec, t);
        }),
      });
    } catch (e) {
      throw bindError(spec, port, e);
    }
    return { name: spec.name, port: server.port, address: opts.address, close: async () => server.stop(false) };
  }

  /** Implicit-TLS ports: Bun.listen with Bun's TLS from the first byte (~6 KB less per idle
   *  connection than upgrading each socket). The default certificate is the listener's; SNI
   *  names go to the hook (`serverName`). A listener cannot change its default certificate,
   *  so a reload binds a new listener on the port, then stops the old one (its connections
   *  go on). Both are bound with SO_REUSEPORT so the port never closes in between (a closed
   *  port refused clients and could be taken by another program); only a connection still
   *  waiting in the old socket's accept queue at that instant is reset. Linux lets only the
   *  same user join a reuseport group. */
  /** Bun supports `reusePort` on Bun.listen; bun-types does not declare it (hence a spread). */
  const REUSE_PORT = { reusePort: true };
  async function listenTls(spec: ListenSpec, port: number): Promise<Listener> {
    const sh = sharedOf(spec);
    const bind = (at: number, fallback: tls.SecureContext) =>
      Bun.listen<BunSocketData>({
        hostname: opts.address,
        port: at,
        ...REUSE_PORT,
        data: { sni: sh.contextFor },
        tls: { secureContext: nativeContext(fallback) } as Bun.TLSOptions,
        socket: bunTlsHandlers((s) => {
          const t = BunTransport.accept(s);
          if (admit(spec, t)) handshake(spec, t);
        }),
      });
    let server: Bun.TCPSocketListener<BunSocketData>;
    try {
      server = bind(port, await sh.contextFor(undefined));
    } catch (e) {
      throw bindError(spec, port, e);
    }
    const bound = server.port;
    let closed = false;
    const rebind = async () => {
      const fallback = await sh.contextFor(undefined);
      if (closed) return;
      const old = server;
      try {
        server = bind(bound, fallback);
      } catch (e) {
        // The old listener goes on with the old default certificate: say so loudly.
        opts.log.error("certificate reload: cannot bind the port again", { service: spec.name, port: bound, err: (e as Error).message });
        return;
      }
      old.stop(false);
    };
    let chain = Promise.resolve();
    const reload = () => (chain = chain.then(rebind, rebind));
    tlsRebinds.add(reload);
    return {
      name: spec.name,
      port: bound,
      address: opts.address,
      close: async () => {
        closed = true;
        tlsRebinds.delete(reload);
        server.stop(false);
      },
    };
  }

  return {
    get listeners() {
      return listeners;
    },
    stats,
    portFor: (p) => (p === 0 ? 0 : p + opts.portOffset),
    adopt(l) {
      listeners.push(l);
    },
    async listen(spec) {
      const port = opts.ports?.[spec.name] ?? (spec.port === 0 ? 0 : spec.port + opts.portOffset);
      const l = spec.mode === "implicit-tls" ? await listenTls(spec, port) : listenPlain(spec, port);
      listeners.push(l);
      return l;
    },
    async shutdown(graceMs) {
      stopping = true;
      unsubscribe();
      const closed = Promise.all(listeners.map((l) => l.close()));
      shutdownAc.abort();
      const deadline = Date.now() + graceMs;
      while (conns.size > 0 && Date.now() < deadline) await Bun.sleep(25);
      for (const c of conns) c.destroy();
      await Promise.race([closed, Bun.sleep(1000)]);
    },
  };
}
