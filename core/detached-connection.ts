// A Connection without a socket of its own, for running the hooks (route, smtp.rcpt,
// smtp.data …) on mail that did not arrive on a core listener: a JMAP submission over HTTP,
// a message pulled over an edge's ODMR link. Writes go nowhere; it closes with `closing`.
import { isLoopback } from "./listen.ts";
import type { Connection, Logger } from "./types.ts";

export function detachedConnection(f: {
  id: string;
  service: string;
  remoteAddress: string;
  remotePort?: number;
  localAddress?: string;
  localPort?: number;
  secure: boolean;
  log: Logger;
  closing?: AbortSignal;
}): Connection {
  return {
    id: f.id,
    service: f.service,
    remoteAddress: f.remoteAddress,
    remotePort: f.remotePort ?? 0,
    localAddress: f.localAddress ?? "",
    localPort: f.localPort ?? 0,
    isLoopback: isLoopback(f.remoteAddress),
    secure: f.secure,
    // Not a line session: a password is fine when the way it came was encrypted.
    plaintextLoginAllowed: f.secure,
    log: f.log,
    closing: f.closing ?? new AbortController().signal,
    state: {},
    onData() {},
    onClose() {},
    write() {},
    drain: async () => {},
    pause() {},
    resume() {},
    upgradeTls: async () => {
      throw new Error("not a socket");
    },
    setIdleTimeout() {},
    close() {},
    destroy() {},
  };
}
