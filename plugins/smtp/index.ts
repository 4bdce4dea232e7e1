// The SMTP plugin: inbound MX on port 25 (STARTTLS offered, no AUTH), submission on
// 587 (STARTTLS, AUTH after TLS) and 465 (implicit TLS, RFC 8314). RFC 5321 with
// PIPELINING, SIZE, 8BITMIME, SMTPUTF8, ENHANCEDSTATUSCODES, STARTTLS, AUTH, CHUNKING, DSN.
import * as v from "valibot";
import { definePlugin, type Connection, type ListenerMode, type Reply } from "../../core/types.ts";
import { formatReply } from "./reply.ts";
import { startSession, type SmtpService } from "./session.ts";

const count = v.pipe(v.number(), v.integer(), v.minValue(1));

export const SmtpConfigSchema = v.optional(
  v.object({
    // RFC 5321 §4.5.3.2: the server timeout is at least 5 minutes.
    idleTimeoutSeconds: v.optional(v.pipe(v.number(), v.minValue(1), v.description("Seconds an SMTP session may stay silent before 421 and close (RFC 5321 asks for at least 300).")), 300),
    maxErrors: v.optional(v.pipe(count, v.description("Error replies in one SMTP session before 421 and close.")), 20),
    maxCommandsWithoutMail: v.optional(v.pipe(count, v.description("Commands (NOOP, RSET, VRFY, EHLO …) without a MAIL before 421 and close.")), 50),
    maxAuthFailures: v.optional(v.pipe(count, v.description("Failed AUTH attempts per connection before 421 and close (the per-IP limit is auth.maxFailuresPerIp).")), 3),
    // RFC 5321 §4.5.3.1.6 asks for at least 1000; real mail sometimes has longer lines.
    maxDataLineLength: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1000), v.description("Longest line of message data in octets with CRLF; longer lines are refused with 500.")), 16384),
  }),
  {},
);

const LISTENERS: { name: SmtpService; port: number; mode: ListenerMode }[] = [
  { name: "smtp", port: 25, mode: "plain" },
  { name: "submission", port: 587, mode: "plain" },
  { name: "submissions", port: 465, mode: "implicit-tls" },
];

export default definePlugin({
  name: "smtp",
  config: SmtpConfigSchema,
  async setup(core, cfg) {
    const deps = { hooks: core.hooks, store: core.store, spool: core.spool };
    for (const l of LISTENERS) {
      // Built per connection: a config reload applies to the next session.
      const sessionConfig = () => ({
        service: l.name,
        hostname: core.config.hostname,
        maxMessageSize: core.config.limits.maxMessageSize,
        maxRecipients: core.config.limits.maxRecipients,
        headerLimits: { maxSection: core.config.limits.maxHeaderSection, maxField: core.config.limits.maxHeaderField },
        maxErrors: cfg.maxErrors,
        maxCommandsWithoutMail: cfg.maxCommandsWithoutMail,
        maxAuthFailures: cfg.maxAuthFailures,
        maxDataLine: cfg.maxDataLineLength,
        idleMs: cfg.idleTimeoutSeconds * 1000,
      });
      // Standard ports; the core applies [listen.ports] and the port offset.
      await core.listen({
        name: l.name,
        port: l.port,
        mode: l.mode,
        onConnection: (conn: Connection) => startSession(conn, deps, sessionConfig()),
        onRefuse: (conn: Connection, reply: Reply) => conn.write(formatReply(reply)),
      });
    }
  },
});
