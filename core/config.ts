// The config schema (valibot), defaults, the TOML file and env overrides.
import * as v from "valibot";
import { hostname as osHostname } from "node:os";

const port = v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(65535));
const duration = v.pipe(v.string(), v.regex(/^\d+(ms|s|m|h|d)$/, "a duration like 30s, 5m, 2h or 5d"));

export const ConfigSchema = v.looseObject({
  /** The server's host name: EHLO, Received, banners, certificates. */
  hostname: v.optional(v.pipe(v.string(), v.regex(/^[a-z0-9.-]+$/i, "a host name like mail.example.com")), osHostname()),
  listen: v.optional(
    v.object({
      /** Address every listener binds (0.0.0.0, ::, 127.0.0.1 …). */
      address: v.optional(v.string(), "0.0.0.0"),
      /** Added to every standard port; unset = 0 as root, 10000 otherwise. */
      portOffset: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(60000))),
      /** Standard ports (before the offset); 0 = any free port (tests). */
      ports: v.optional(
        v.object({
          smtp: v.optional(port, 25),
          submission: v.optional(port, 587),
          submissions: v.optional(port, 465),
          imap: v.optional(port, 143),
          imaps: v.optional(port, 993),
          pop3: v.optional(port, 110),
          pop3s: v.optional(port, 995),
          http: v.optional(port, 80),
          https: v.optional(port, 443),
          /** On-Demand Mail Relay (RFC 2645) of a paired edge (plugins/edge). */
          odmr: v.optional(port, 366),
        }),
        {},
      ),
      maxConnectionsPerIp: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1)), 50),
      /** Open connections over all listeners; more are refused (421 / closed) and logged. */
      maxConnections: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1)), 5000),
      /** Seconds a client on an implicit-TLS port (465, 993, 995) has to finish its TLS handshake. */
      tlsHandshakeSeconds: v.optional(v.pipe(v.number(), v.minValue(0.1)), 10),
      /** Seconds the server waits for sessions to finish on shutdown. */
      shutdownGraceSeconds: v.optional(v.pipe(v.number(), v.minValue(0)), 5),
      /** Processes serving the protocol ports (SO_REUSEPORT), or "auto": one per CPU, at
       *  most 4 (DESIGN.md "Several processes"). */
      processes: v.optional(v.union([v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(64)), v.literal("auto")], 'a whole number from 1 to 64, or "auto"'), 1),
    }),
    {},
  ),
  database: v.optional(
    v.object({
      /** "file:<data>/kotakpos.db" when empty; "libsql://…" for a libSQL server. */
      url: v.optional(v.string(), ""),
      authToken: v.optional(v.string(), ""),
    }),
    {},
  ),
  /** Several instances on one libSQL server (DESIGN.md "Several instances"). */
  cluster: v.optional(
    v.object({
      /** How often (ms) an instance on a remote database looks for other instances'
       *  mailbox changes (IDLE, NOTIFY, JMAP push); 0: never. */
      changePollMs: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0)), 500),
      /** Spool lease on a remote database: renewed every third of it while a delivery
       *  runs; a dead instance's deliveries are taken over this long after it stopped. */
      leaseSeconds: v.optional(v.pipe(v.number(), v.minValue(1)), 60),
    }),
    {},
  ),
  blobs: v.optional(
    v.object({
      /** Folder of message blobs; "<data>/blobs" when empty. */
      path: v.optional(v.string(), ""),
      /** "s3://bucket/prefix": blobs in S3-compatible object storage instead of the folder. */
      url: v.optional(v.string(), ""),
      /** S3 API endpoint (http(s)://host:port); empty: AWS for the region. */
      endpoint: v.optional(v.string(), ""),
      region: v.optional(v.string(), ""),
      /** JSON file {"accessKeyId","secretAccessKey"}; empty: $AWS_ACCESS_KEY_ID / $AWS_SECRET_ACCESS_KEY. */
      credentialsFile: v.optional(v.string(), ""),
      /** Where the blobs were before `kotakpos migrate-blobs` (s3://… or a folder): read
       *  from there while a blob is not yet in the new place. */
      previous: v.optional(v.string(), ""),
      /** MiB of blobs cached in memory for reads (S3 only). */
      cacheMiB: v.optional(v.pipe(v.number(), v.minValue(0)), 64),
    }),
    {},
  ),
  tls: v.optional(
    v.object({
      /** PEM files of a certificate to use instead of the self-signed one. */
      certFile: v.optional(v.string(), ""),
      keyFile: v.optional(v.string(), ""),
    }),
    {},
  ),
  auth: v.optional(
    v.object({
      /** Allow passwords over unencrypted connections from loopback (tests only). */
      allowPlaintextOnLoopback: v.optional(v.boolean(), false),
      /** Failed logins per IP per 5 minutes before refusing. */
      maxFailuresPerIp: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1)), 10),
    }),
    {},
  ),
  dns: v.optional(
    v.object({
      /** Resolvers as "host:port" or "host"; empty = the system's resolvers. */
      servers: v.optional(v.array(v.pipe(v.string(), v.regex(/^[0-9a-f.:[\]]+$/i, "an IP address with an optional :port"))), []),
      timeout: v.optional(duration, "5s"),
    }),
    {},
  ),
  delivery: v.optional(
    v.object({
      /** Destination port for MX delivery (tests point it at another instance). */
      port: v.optional(port, 25),
      concurrency: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1)), 20),
      perDomain: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1)), 4),
      /** Delay before each retry; the last one repeats until maxAge. */
      retry: v.optional(v.array(duration), ["1m", "5m", "15m", "30m", "1h", "2h", "4h"]),
      maxAge: v.optional(duration, "5d"),
      /** Send a delay warning after this long (empty = never). */
      warnAfter: v.optional(v.string(), "4h"),
      /** PEM file of extra CAs trusted when MTA-STS or DANE needs a verified MX certificate. */
      caFile: v.optional(v.string(), ""),
      /** A smarthost for outbound mail (home lab, blocked port 25). */
      relay: v.optional(
        v.object({
          url: v.optional(v.string(), ""),
          preset: v.optional(v.string(), ""),
          username: v.optional(v.string(), ""),
          passwordFile: v.optional(v.string(), ""),
          caFile: v.optional(v.string(), ""),
          domains: v.optional(v.array(v.string()), []),
        }),
        {},
      ),
    }),
    {},
  ),
  limits: v.optional(
    v.object({
      /** Largest message accepted (bytes), announced in SIZE and APPENDLIMIT. */
      maxMessageSize: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1024)), 50 * 1024 * 1024),
      maxRecipients: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1)), 1000),
      /** Largest header section and largest single header field (bytes), checked before any check runs. */
      maxHeaderSection: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1024)), 1024 * 1024),
      maxHeaderField: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1000)), 64 * 1024),
    }),
    {},
  ),
  log: v.optional(
    v.object({
      level: v.optional(v.picklist(["debug", "info", "warn", "error"]), "info"),
      /** "text": one line per event; "json": one JSON object per line (journald, Loki). */
      format: v.optional(v.picklist(["text", "json"]), "text"),
    }),
    {},
  ),
  metrics: v.optional(
    v.object({
      /** "host:port" of a separate plain-HTTP listener serving only /metrics without a
       *  token (e.g. 127.0.0.1:9108 for a local Prometheus); empty = none. /metrics on the
       *  web listeners always needs the admin token as a bearer token. */
      listen: v.optional(v.string(), ""),
    }),
    {},
  ),
  plugins: v.optional(
    v.object({
      /** Built-in or extra plugins not to load. */
      disabled: v.optional(v.array(v.string()), []),
      /** Folder of extra plugins (.ts/.js); "<data>/plugins" when empty. */
      dir: v.optional(v.string(), ""),
    }),
    {},
  ),
});

export type Config = v.InferOutput<typeof ConfigSchema>;

/** Parse a duration like "5m" into milliseconds. */
export function durationMs(d: string): number {
  const m = /^(\d+)(ms|s|m|h|d)$/.exec(d);
  if (!m) throw new Error(`bad duration ${d}`);
  const n = Number(m[1]);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as "ms"];
  return n * unit;
}

/** The port mail apps use for a listener: its configured standard port plus the offset
 *  (as `serve`: an unset offset is 0 as root, 10000 otherwise). A configured 0 ("any free
 *  port", tests) cannot be advertised: the standard port is named instead. */
export function clientPort(config: Config, name: string, std: number): number {
  const off = config.listen.portOffset ?? (process.getuid?.() === 0 ? 0 : 10000);
  return ((config.listen.ports as Record<string, number>)[name] || std) + off;
}

/** A config problem (core or plugin section): the message is the one line the CLI prints
 *  before exiting 2. */
export class ConfigError extends Error {
  constructor(
    message: string,
    readonly key?: string,
    readonly source?: string,
  ) {
    super(message);
    this.name = "ConfigError";
  }
}
