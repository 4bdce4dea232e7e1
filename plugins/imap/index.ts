// The IMAP server plugin (RFC 9051 IMAP4rev2 + RFC 3501 IMAP4rev1): "imap" on 143 with
// STARTTLS and "imaps" on 993 with implicit TLS.
import * as v from "valibot";
import { admitConnection } from "../../core/hooks.ts";
import { definePlugin, type Connection } from "../../core/types.ts";
import { Session, type ImapOptions } from "./session.ts";
import { MailboxCache } from "./cache.ts";
import { RecentMarks } from "./recent.ts";
import { ImapEvents } from "./events.ts";
import { Sessions } from "./sessions.ts";
import { resolveAuthorized } from "./urlauth.ts";

const ConfigSchema = v.object({
  // RFC 9051 §4 asks for at least 8192.
  maxLine: v.optional(v.pipe(v.number(), v.integer(), v.minValue(8192), v.description("Longest IMAP command line in bytes (RFC 9051 asks for at least 8192).")), 65536),
  maxLiteral: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1024), v.description("Largest literal in IMAP commands other than APPEND, in bytes.")), 65536),
  maxBadCommands: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.description("BAD replies in one IMAP session before BYE and close.")), 20),
  maxAuthFailures: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.description("Failed LOGIN/AUTHENTICATE attempts per IMAP connection before BYE and close.")), 3),
  // RFC 9051 §5.4: the autologout timer is at least 30 minutes.
  idleTimeoutMinutes: v.optional(v.pipe(v.number(), v.minValue(30), v.description("Minutes of silence before autologout (RFC 9051: at least 30).")), 31),
  preAuthTimeoutSeconds: v.optional(v.pipe(v.number(), v.minValue(1), v.description("Seconds an IMAP connection may stay silent before logging in.")), 120),
  metadataCache: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0), v.description("Messages whose parsed metadata (envelope, structure) IMAP keeps in memory.")), 5000),
});

export default definePlugin({
  name: "imap",
  config: ConfigSchema,
  async setup(core, cfg) {
    const cache = new MailboxCache(core.store, cfg.metadataCache);
    const recent = new RecentMarks(core.db);
    // Registered before any session's listener: the cache is fresh when sessions look.
    const unsubscribe = core.store.onChange((ev) => cache.onChange(ev));
    const events = new ImapEvents();
    const sessions = new Sessions(core.store, events);
    const opts: ImapOptions = {
      maxLine: cfg.maxLine,
      maxLiteral: cfg.maxLiteral,
      appendLimit: core.config.limits.maxMessageSize,
      maxBadCommands: cfg.maxBadCommands,
      maxAuthFailures: cfg.maxAuthFailures,
      idleTimeoutMs: cfg.idleTimeoutMinutes * 60_000,
      preAuthTimeoutMs: cfg.preAuthTimeoutSeconds * 1000,
      hostname: core.config.hostname,
      cache,
      recent,
      events,
      sessions,
    };
    // BURL (RFC 4468): the submission server fetches "submit+user" URLAUTH URLs here.
    core.hooks.on("url.fetch", async (url, user) => {
      if (!/^imap:\/\//i.test(url)) return { kind: "pass" };
      const data = await resolveAuthorized({ core, opts }, url, { user: user.address, submit: true });
      return data ? { kind: "data", data } : { kind: "fail", temporary: false, reason: "IMAP URL resolution failed" };
    });
    const refuse = (conn: { write(s: string): void }, reply: { text: string }) => conn.write(`* BYE ${reply.text}\r\n`);
    const onConnection = async (conn: Connection) => {
      // RFC 9051 §7.1.5: a server refusing the connection greets with BYE.
      if (await admitConnection(core.hooks, conn, refuse)) new Session(core, conn, opts).start();
    };
    // Standard ports; the core applies [listen.ports] and the port offset.
    await core.listen({ name: "imap", port: 143, mode: "plain", onConnection, onRefuse: refuse });
    await core.listen({ name: "imaps", port: 993, mode: "implicit-tls", onConnection, onRefuse: refuse });
    return async () => {
      unsubscribe();
      sessions.close();
      await recent.flush(); // the \Recent marks written behind (recent.ts)
    };
  },
});
