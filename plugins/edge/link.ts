// The edge's side of reversed ODMR connections (RFC 2645 §4): after "250" to ATRN the home
// is the SMTP server on that connection. The link is parked here until the core's delivery
// engine takes it (NextHop.connect) and runs an ordinary SMTP session over it, so the
// spool's leases, retries, at-least-once and DSNs apply to the home's mail unchanged.
import { Duplex } from "node:stream";
import type { Connection } from "../../core/types.ts";

/** A core Connection, as the socket-like stream the SMTP client reads and writes. */
export class LinkSocket extends Duplex {
  constructor(private conn: Connection) {
    super();
    conn.onClose(() => {
      this.push(null);
      this.destroy();
    });
  }
  override _read(): void {}
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (e?: Error | null) => void): void {
    this.conn.write(chunk);
    this.conn.drain().then(() => cb(), cb);
  }
  override _destroy(err: Error | null, cb: (e?: Error | null) => void): void {
    this.conn.close();
    cb(err);
  }
  setNoDelay(): this {
    return this;
  }
}

/** How long a parked link waits for the delivery engine before it is dropped (the home
 *  connects again at its next poll). */
const PARK_MS = 30_000;
/** A home that said ATRN this recently is about to offer a link again. */
const RECENT_MS = 15_000;

export class Links {
  private idle = new Map<string, { sock: LinkSocket; timer: ReturnType<typeof setTimeout> }[]>();
  private waiting = new Map<string, ((s: LinkSocket) => void)[]>();
  private lastOffer = new Map<string, number>();

  offer(domain: string, sock: LinkSocket): void {
    this.lastOffer.set(domain, Date.now());
    const w = this.waiting.get(domain)?.shift();
    if (w) return w(sock);
    const list = this.idle.get(domain) ?? [];
    const entry = {
      sock,
      timer: setTimeout(() => {
        list.splice(list.indexOf(entry), 1);
        sock.destroy();
      }, PARK_MS),
    };
    list.push(entry);
    this.idle.set(domain, list);
  }

  /** The home is connected or about to be: delivery may wait for its link. */
  reachable(domain: string): boolean {
    return (this.idle.get(domain)?.some((e) => !e.sock.destroyed) ?? false) || Date.now() - (this.lastOffer.get(domain) ?? 0) < RECENT_MS;
  }

  /** A parked link of the domain, waiting up to `ms` for the home to offer one. */
  take(domain: string, ms: number): Promise<LinkSocket> {
    const list = this.idle.get(domain) ?? [];
    for (let e = list.shift(); e; e = list.shift()) {
      clearTimeout(e.timer);
      if (!e.sock.destroyed) return Promise.resolve(e.sock);
    }
    return new Promise((resolve, reject) => {
      const q = this.waiting.get(domain) ?? [];
      const w = (s: LinkSocket) => {
        clearTimeout(timer);
        resolve(s);
      };
      const timer = setTimeout(() => {
        q.splice(q.indexOf(w), 1);
        reject(new Error(`the home of ${domain} did not connect (ODMR) within ${Math.round(ms / 1000)} s`));
      }, ms);
      q.push(w);
      this.waiting.set(domain, q);
    });
  }

  /** Parked links of the domain (for `edge status`). */
  parked(domain: string): number {
    return this.idle.get(domain)?.filter((e) => !e.sock.destroyed).length ?? 0;
  }

  close(): void {
    for (const list of this.idle.values()) for (const e of list.splice(0)) clearTimeout(e.timer), e.sock.destroy();
  }
}
