// TCP listeners: plain, implicit TLS, and the STARTTLS upgrade; per-IP connection limits,
// idle timeouts, graceful shutdown (DESIGN.md "Listeners and TLS").
import { connections, connectionsRefused, sessions } from "./metrics.ts";
import * as net from "node:net";
import * as tls from "node:tls";
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

class Conn implements Connection {
  readonly id = `c${++connSeq}`;
  readonly state: ConnState = {};
  readonly log: Logger;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localAddress: string;
  readonly localPort: number;
  readonly isLoopback: boolean;
  secure: boolean;
  tls?: TlsInfo;
  private dataCbs: ((c: Buffer) => void)[] = [];
  private closeCbs: (() => void)[] = [];
  private closed = false;
  private idleMs = 0;
  private idleTimer?: ReturnType<typeof setTimeout>;
  private onIdle?: () => void;

  constructor(
    public socket: net.Socket,
    readonly service: string,
    log: Logger,
    private contextFor: (name: string | undefined) => Promise<tls.SecureContext>,
    private shutdownSignal: AbortSignal,
    private handshakeMs = 30_000,
    private plaintextOnLoopback: () => boolean = () => false,
  ) {
    this.remoteAddress = socket.remoteAddress ?? "?";
    this.remotePort = socket.remotePort ?? 0;
    this.localAddress = socket.localAddress ?? "?";
    this.localPort = socket.localPort ?? 0;
    this.isLoopback = isLoopback(this.remoteAddress);
    this.secure = socket instanceof tls.TLSSocket;
    this.log = log.child({ conn: this.id });
    socket.setNoDelay(true);
    this.attach(socket);
    if (socket instanceof tls.TLSSocket) this.tls = tlsInfo(socket);
  }

  get closing(): AbortSignal {
    return this.shutdownSignal;
  }

  /** DESIGN.md: passwords only over TLS, or from loopback when the config allows it (tests). */
  get plaintextLoginAllowed(): boolean {
    return this.secure || (this.isLoopback && this.plaintextOnLoopback());
  }

  private attach(s: net.Socket): void {
    s.on("data", (chunk: Buffer) => {
      this.idleTimer?.refresh();
      for (const cb of this.dataCbs) cb(chunk);
    });
    s.on("error", (err) => this.log.debug("socket error", { err: err.message }));
    s.on("close", () => this.finish());
  }

  private finish(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.idleTimer);
    for (const cb of this.closeCbs) {
      try {
        cb();
      } catch (err) {
        this.log.error("close handler failed", { err: (err as Error).message });
      }
    }
  }

  get isClosed(): boolean {
    return this.closed;
  }

  onData(cb: (chunk: Buffer) => void): void {
    this.dataCbs.push(cb);
  }
  onClose(cb: () => void): void {
    if (this.closed) queueMicrotask(cb);
    else this.closeCbs.push(cb);
  }
  write(data: string | Uint8Array): void {
    if (!this.closed && !this.socket.destroyed) this.socket.write(data);
  }
  writeReusable(data: Uint8Array): boolean {
    if (this.closed || this.socket.destroyed) return true;
    this.socket.write(data);
    // Nothing left queued: the socket took all of it at once. Otherwise the stream may hold
    // it by reference (a write queued behind a pending one) until it drains.
    return this.socket.writableLength === 0;
  }
  drain(): Promise<void> {
    if (this.closed || !this.socket.writableNeedDrain) return Promise.resolve();
    return new Promise((res) => {
      const done = () => {
        this.socket.off("drain", done);
        this.socket.off("close", done);
        res();
      };
      this.socket.on("drain", done);
      this.socket.on("close", done);
    });
  }
  pause(): void {
    this.socket.pause();
  }
  resume(): void {
    this.socket.resume();
  }

  async upgradeTls(): Promise<void> {
    if (this.secure) throw new Error("already secure");
    const plain = this.socket;
    plain.removeAllListeners("data");
    plain.removeAllListeners("close");
    plain.removeAllListeners("error");
    // A reset during or after the handshake surfaces on the TLS socket too; an unhandled
    // error on the raw one would be thrown (a peer that drops after STARTTLS).
    plain.on("error", (e) => this.log.debug("socket error under TLS", { err: e.message }));
    const ctx = await this.contextFor(undefined);
    const secure = new tls.TLSSocket(plain, {
      isServer: true,
      secureContext: ctx,
      SNICallback: (name, cb) =>
        this.contextFor(name).then(
          (c) => cb(null, c),
          (e: Error) => cb(e),
        ),
    });
    this.socket = secure;
    this.attach(secure);
    await new Promise<void>((res, rej) => {
      const t = setTimeout(() => rej(new Error("TLS handshake timed out")), this.handshakeMs);
      secure.once("secure", () => {
        clearTimeout(t);
        res();
      });
      secure.once("error", (e) => {
        clearTimeout(t);
        rej(e);
      });
      secure.once("close", () => {
        clearTimeout(t);
        rej(new Error("closed during TLS handshake"));
      });
    }).catch((e: Error) => {
      this.log.info("starttls failed", { err: e.message });
      this.destroy();
      throw e;
    });
    this.secure = true;
    this.tls = tlsInfo(secure);
    this.log.debug("starttls", { ...this.tls });
  }

  setIdleTimeout(ms: number, onIdle?: () => void): void {
    this.idleMs = ms;
    this.onIdle = onIdle;
    clearTimeout(this.idleTimer);
    if (ms > 0) {
      this.idleTimer = setTimeout(() => {
        this.log.info("idle timeout", { ms: this.idleMs });
        if (this.onIdle) this.onIdle();
        else this.close();
      }, ms);
    }
  }

  close(): void {
    if (this.closed) return;
    this.socket.end();
    // A peer that never reads must not keep the socket forever.
    setTimeout(() => this.destroy(), 5_000).unref?.();
  }
  destroy(): void {
    this.socket.destroy();
    this.finish();
  }
}

function tlsInfo(s: tls.TLSSocket): TlsInfo {
  const c = s.getCipher?.();
  return {
    protocol: s.getProtocol?.() ?? "TLS",
    cipher: c?.standardName ?? c?.name ?? "unknown",
    servername: (s as tls.TLSSocket & { servername?: string }).servername || undefined,
  };
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
  /** Aborted once, at shutdown: every connection's `closing` (an AbortController per
   *  connection is ~1.3–1.9 KB of RSS). */
  const shutdownAc = new AbortController();
  const stats: ListenerStats = { open: 0, refusedGlobalCap: 0, refusedPerIp: 0, tlsHandshakeTimeouts: 0 };
  /** Implicit-TLS sockets still in their handshake, with the timer that drops them. */
  const handshaking = new WeakMap<net.Socket, ReturnType<typeof setTimeout>>();
  let stopping = false;
  // Hot reload: SNI lookups ask the tls.certificate hook per handshake already; the default
  // pair of implicit-TLS servers (clients without SNI) is swapped here. Open connections
  // keep the certificate they were given.
  const tlsServers = new Set<tls.Server>();
  const unsubscribe = opts.tls.onChange(() => {
    void opts.tls.certificateFor(undefined).then(
      (pem) => {
        for (const s of tlsServers) s.setSecureContext({ ...pem, minVersion: "TLSv1.2" });
        opts.log.info("certificates reloaded", { listeners: tlsServers.size });
      },
      (err: Error) => opts.log.error("certificate reload failed", { err: err.message }),
    );
  });

  let capLoggedAt = 0;
  let capRefusedSinceLog = 0;

  /** Every raw socket (before any TLS handshake) passes here: the global cap. */
  function admit(spec: ListenSpec, socket: net.Socket): boolean {
    if (stopping) {
      socket.destroy();
      return false;
    }
    if (stats.open >= maxConnections) {
      stats.refusedGlobalCap++;
      connectionsRefused.inc({ listener: spec.name, reason: "global_cap" });
      capRefusedSinceLog++;
      const now = Date.now();
      if (now - capLoggedAt >= CAP_LOG_INTERVAL_MS) {
        opts.log.warn("connection cap reached: refusing new connections", { cap: maxConnections, open: stats.open, refused: capRefusedSinceLog, service: spec.name, ip: socket.remoteAddress });
        capLoggedAt = now;
        capRefusedSinceLog = 0;
      }
      if (spec.mode === "implicit-tls" || !spec.onRefuse) {
        // No TLS session to speak in (and no handshake work spent on it): just close.
        socket.destroy();
      } else {
        const conn = new Conn(socket, spec.name, opts.log, contextOf(spec), shutdownAc.signal, handshakeMs, plaintextOnLoopback);
        spec.onRefuse(conn, { code: 421, enhanced: "4.3.2", text: "Server busy: too many connections, try again later" });
        conn.close();
      }
      return false;
    }
    stats.open++;
    socket.once("close", () => stats.open--);
    if (spec.mode === "implicit-tls") {
      handshaking.set(
        socket,
        setTimeout(() => {
          stats.tlsHandshakeTimeouts++;
          connectionsRefused.inc({ listener: spec.name, reason: "tls_handshake_timeout" });
          opts.log.info("tls handshake timeout", { service: spec.name, ip: socket.remoteAddress, ms: handshakeMs });
          socket.destroy();
        }, handshakeMs),
      );
    }
    return true;
  }

  /** A listener's own certificate (ListenSpec.certificate, STARTTLS) or the SNI lookup. */
  const ownContexts = new WeakMap<ListenSpec, (name: string | undefined) => Promise<tls.SecureContext>>();
  function contextOf(spec: ListenSpec): (name: string | undefined) => Promise<tls.SecureContext> {
    const own = spec.certificate;
    if (!own) return contextFor;
    let fn = ownContexts.get(spec);
    if (!fn) {
      let ctx: Promise<tls.SecureContext> | undefined;
      ownContexts.set(spec, (fn = () => (ctx ??= own().then((pem) => tls.createSecureContext({ ...pem, minVersion: "TLSv1.2" })))));
    }
    return fn;
  }

  function accept(spec: ListenSpec, socket: net.Socket): void {
    clearTimeout(handshaking.get(socket));
    handshaking.delete(socket);
    if (stopping) {
      socket.destroy();
      return;
    }
    const conn = new Conn(socket, spec.name, opts.log, contextOf(spec), shutdownAc.signal, handshakeMs, plaintextOnLoopback);
    const ip = conn.remoteAddress;
    const key = `${spec.name} ${ip}`;
    const n = (perIp.get(key) ?? 0) + 1;
    perIp.set(key, n);
    conns.add(conn);
    connections.inc({ listener: spec.name });
    sessions.inc({ listener: spec.name });
    conn.onClose(() => {
      sessions.dec({ listener: spec.name });
      conns.delete(conn);
      const left = (perIp.get(key) ?? 1) - 1;
      if (left <= 0) perIp.delete(key);
      else perIp.set(key, left);
      conn.log.debug("disconnected");
    });
    conn.log.debug("connected", { service: spec.name, ip, port: conn.remotePort });
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
      const server =
        spec.mode === "implicit-tls"
          ? tls.createServer(
              {
                // Bun ignores `secureContext` here: the default pair answers clients without SNI.
                ...(await opts.tls.certificateFor(undefined)),
                SNICallback: (name, cb) =>
                  contextFor(name).then(
                    (c) => cb(null, c),
                    (e: Error) => cb(e),
                  ),
                minVersion: "TLSv1.2",
              },
              (s) => accept(spec, s),
            )
          : net.createServer();
      // "connection" carries the raw socket (for TLS: before the handshake, the same object
      // that later reaches accept).
      server.on("connection", (s: net.Socket) => {
        if (admit(spec, s) && spec.mode !== "implicit-tls") accept(spec, s);
      });
      if (server instanceof tls.Server) {
        server.on("tlsClientError", (err) => opts.log.debug("tls client error", { service: spec.name, err: err.message }));
        tlsServers.add(server);
      }
      server.on("error", (err) => opts.log.error("listener error", { service: spec.name, err: err.message }));
      await new Promise<void>((res, rej) => {
        const onErr = (e: Error) => rej(new Error(`cannot listen on ${opts.address}:${port} (${spec.name}): ${e.message}`));
        server.once("error", onErr);
        server.listen({ port, host: opts.address, ...(opts.reusePort && { reusePort: true }) }, () => {
          server.off("error", onErr);
          res();
        });
      });
      const bound = (server.address() as net.AddressInfo).port;
      const l: Listener = {
        name: spec.name,
        port: bound,
        address: opts.address,
        close: () => new Promise<void>((res) => server.close(() => res())),
      };
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
