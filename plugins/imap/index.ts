// The IMAP server plugin (RFC 9051 IMAP4rev2 + RFC 3501 IMAP4rev1): "imap" on 143 with
// STARTTLS and "imaps" on 993 with implicit TLS.
import * as v from "valibot";
import { admitConnection } from "../../core/hooks.ts";
import { definePlugin, type Connection } from "../../core/types.ts";
import { Session, type ImapOptions } from "./session.ts";
import { MailboxCache } from "./cache.ts";

const ConfigSchema = v.object({
  /** Longest command line (bytes). RFC 9051 §4 asks for at least 8192. */
  maxLine: v.optional(v.pipe(v.number(), v.integer(), v.minValue(8192)), 65536),
  /** Largest literal in commands other than APPEND. */
  maxLiteral: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1024)), 65536),
  maxBadCommands: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1)), 20),
  maxAuthFailures: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1)), 3),
  /** Minutes of silence before autologout (RFC 9051 §5.4: at least 30). */
  idleTimeoutMinutes: v.optional(v.pipe(v.number(), v.minValue(30)), 31),
  /** Seconds a connection may stay silent before logging in. */
  preAuthTimeoutSeconds: v.optional(v.pipe(v.number(), v.minValue(1)), 120),
  /** Messages whose parsed metadata (envelope, structure) is kept in memory. */
  metadataCache: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0)), 5000),
});

export default definePlugin({
  name: "imap",
  config: ConfigSchema,
  async setup(core, cfg) {
    const cache = new MailboxCache(core.store, cfg.metadataCache);
    // Registered before any session's listener: the cache is fresh when sessions look.
    const unsubscribe = core.store.onChange((ev) => cache.onChange(ev));
    const opts: ImapOptions = {
      maxLine: cfg.maxLine,
      maxLiteral: cfg.maxLiteral,
      appendLimit: core.config.limits.maxMessageSize,
      maxBadCommands: cfg.maxBadCommands,
      maxAuthFailures: cfg.maxAuthFailures,
      idleTimeoutMs: cfg.idleTimeoutMinutes * 60_000,
      preAuthTimeoutMs: cfg.preAuthTimeoutSeconds * 1000,
      allowPlaintextOnLoopback: core.config.auth.allowPlaintextOnLoopback,
      hostname: core.config.hostname,
      cache,
    };
    const refuse = (conn: { write(s: string): void }, reply: { text: string }) => conn.write(`* BYE ${reply.text}\r\n`);
    const onConnection = async (conn: Connection) => {
      // RFC 9051 §7.1.5: a server refusing the connection greets with BYE.
      if (await admitConnection(core.hooks, conn, refuse)) new Session(core, conn, opts).start();
    };
    // Standard ports; the core applies [listen.ports] and the port offset.
    await core.listen({ name: "imap", port: 143, mode: "plain", onConnection, onRefuse: refuse });
    await core.listen({ name: "imaps", port: 993, mode: "implicit-tls", onConnection, onRefuse: refuse });
    return unsubscribe;
  },
});
