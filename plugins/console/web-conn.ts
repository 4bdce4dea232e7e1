// The `auth` hook takes a Connection (the core's limiter counts failures per remote IP): a
// web login is described as one, service "web", so the same limiter and handlers apply.
import type { Connection, Logger } from "../../core/types.ts";

const never = new AbortController().signal;

export function webConnection(ip: string, log: Logger, secure: boolean): Connection {
  const noop = () => {};
  return {
    id: `web-${ip}`,
    service: "web",
    remoteAddress: ip,
    remotePort: 0,
    localAddress: "",
    localPort: 0,
    isLoopback: ip === "127.0.0.1" || ip === "::1" || ip === "::ffff:127.0.0.1",
    secure,
    // Web logins are not line sessions; HTTPS or not is the web server's own decision.
    plaintextLoginAllowed: secure,
    log: log.child({ web: ip }),
    closing: never,
    state: {},
    onData: noop,
    onClose: noop,
    write: noop,
    drain: async () => {},
    pause: noop,
    resume: noop,
    upgradeTls: async () => {
      throw new Error("not a TCP connection");
    },
    setIdleTimeout: noop,
    close: noop,
    destroy: noop,
  };
}
