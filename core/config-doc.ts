// Walks valibot schemas (the core's and each plugin's) to document, describe and coerce
// config keys. Used by the commented default file, env overrides and error messages.
import * as v from "valibot";
import type { GenericSchema } from "valibot";
import { ConfigSchema } from "./config.ts";

/** The parts of a valibot schema object we look at (they are plain objects at run time). */
interface SchemaNode {
  type: string;
  wrapped?: SchemaNode;
  default?: unknown;
  entries?: Record<string, SchemaNode>;
  item?: SchemaNode;
  options?: unknown[];
  message?: unknown;
  pipe?: { type: string; kind: string; requirement?: unknown; message?: unknown; description?: unknown }[];
}

const node = (s: GenericSchema | SchemaNode): SchemaNode => s as unknown as SchemaNode;

/** Strip optional/nullable/nullish wrappers. */
export function unwrap(schema: GenericSchema | SchemaNode): SchemaNode {
  let s = node(schema);
  while (s.wrapped && /^(optional|nullable|nullish|exact_optional|undefinedable|non_optional)$/.test(s.type)) s = s.wrapped;
  return s;
}

export const isObjectSchema = (s: SchemaNode): boolean => /^(object|loose_object|strict_object)$/.test(s.type) && !!s.entries;

export interface Leaf {
  /** Key path, e.g. ["listen", "ports", "smtp"]. */
  path: string[];
  /** The leaf schema, wrappers removed. */
  schema: SchemaNode;
  optional: boolean;
}

/** Every leaf key of an object schema, depth first, in declaration order. */
export function leaves(schema: GenericSchema | SchemaNode, prefix: string[] = []): Leaf[] {
  const s = unwrap(schema);
  if (!isObjectSchema(s)) return [];
  const out: Leaf[] = [];
  for (const [key, child] of Object.entries(s.entries!)) {
    const inner = unwrap(child);
    if (isObjectSchema(inner)) out.push(...leaves(inner, [...prefix, key]));
    else out.push({ path: [...prefix, key], schema: inner, optional: inner !== node(child) });
  }
  return out;
}

/** The schema at a key path (array indexes step into the item schema). */
export function schemaAt(schema: GenericSchema | SchemaNode, path: (string | number)[]): SchemaNode | undefined {
  let s: SchemaNode | undefined = unwrap(schema);
  for (const key of path) {
    if (!s) return undefined;
    if (s.type === "array" && s.item) s = unwrap(s.item);
    else if (isObjectSchema(s)) s = s.entries![String(key)] ? unwrap(s.entries![String(key)]) : undefined;
    else return undefined;
  }
  return s;
}

const action = (s: SchemaNode, type: string) => s.pipe?.find((a) => a.type === type);

/** The description a plugin attached with `v.pipe(schema, v.description("…"))`. */
export function schemaDescription(s: SchemaNode): string | undefined {
  const d = action(s, "description")?.description;
  return typeof d === "string" ? d : undefined;
}

/** What a value must look like, in words: "a whole number from 0 to 65535". */
export function describe(s: SchemaNode): string {
  switch (s.type) {
    case "number": {
      const int = !!action(s, "integer");
      const min = action(s, "min_value")?.requirement;
      const max = action(s, "max_value")?.requirement;
      const base = int ? "a whole number" : "a number";
      if (min !== undefined && max !== undefined) return `${base} from ${min} to ${max}`;
      if (min !== undefined) return `${base} of at least ${min}`;
      if (max !== undefined) return `${base} of at most ${max}`;
      return base;
    }
    case "boolean":
      return "true or false";
    case "string": {
      const re = action(s, "regex");
      const msg = re?.message;
      if (typeof msg === "string") return msg;
      if (re) return `a string matching ${String(re.requirement)}`;
      return "a string";
    }
    case "picklist":
      return `one of ${(s.options ?? []).map((o) => JSON.stringify(o)).join(", ")}`;
    case "literal":
      return "a fixed value";
    case "union": {
      const msg = s.message;
      if (typeof msg === "string") return msg;
      return (s.options ?? []).map((o) => describe(unwrap(o as SchemaNode))).join(", or ");
    }
    case "array":
      return s.item ? `a list (each ${describe(unwrap(s.item))})` : "a list";
    case "object":
    case "loose_object":
    case "strict_object":
      return "a table of keys";
    default:
      return `a value of type ${s.type}`;
  }
}

/** camelCase → UPPER_SNAKE for env names: portOffset → PORT_OFFSET. */
const snake = (k: string): string =>
  k
    .replace(/([a-z0-9])([A-Z])/g, "$1_$2")
    .replace(/[^A-Za-z0-9]/g, "_")
    .toUpperCase();

/** KOTAKPOS_<SECTION>_<KEY>: ["listen","portOffset"] → KOTAKPOS_LISTEN_PORT_OFFSET. */
export const envName = (path: string[]): string => `KOTAKPOS_${path.map(snake).join("_")}`;

/** Turn an env string into the type the schema expects; values that do not fit stay
 *  strings so validation reports them as given. */
export function coerce(s: SchemaNode, raw: string): unknown {
  switch (s.type) {
    case "number": {
      const t = raw.trim();
      const n = Number(t);
      return t !== "" && Number.isFinite(n) ? n : raw;
    }
    case "boolean": {
      const t = raw.trim().toLowerCase();
      if (["true", "1", "yes", "on"].includes(t)) return true;
      if (["false", "0", "no", "off"].includes(t)) return false;
      return raw;
    }
    case "union": {
      // The first option the string converts to ("2" → 2 for a number-or-"auto" key).
      for (const o of s.options ?? []) {
        const c = coerce(unwrap(o as SchemaNode), raw);
        if (c !== raw) return c;
      }
      return raw;
    }
    case "array": {
      const t = raw.trim();
      if (t === "") return [];
      const item = s.item ? unwrap(s.item) : undefined;
      return t.split(",").map((p) => (item ? coerce(item, p.trim()) : p.trim()));
    }
    default:
      return raw;
  }
}

/** One line per core key; the README documents the same keys (a test checks both). */
export const CORE_KEY_DOCS: Record<string, string> = {
  hostname: "The server's host name: EHLO, Received headers, banners, certificates. Default: the machine's host name.",
  "listen.maxConnections": "Open connections over all listeners (TLS handshakes included); more are refused with 421 or closed, and a log line says so.",
  "listen.tlsHandshakeSeconds": "Seconds a client on an implicit-TLS port (465, 993, 995) or after STARTTLS has to finish its TLS handshake.",
  "listen.address": "Address every listener binds (0.0.0.0, ::, 127.0.0.1 …).",
  "listen.portOffset": "Added to every standard port (25 → 10025 with 10000). Unset: 0 when the process may bind ports below 1024, 10000 otherwise. `serve --port-offset N` overrides it.",
  "listen.ports.smtp": "SMTP (MX, inbound mail) port before the offset; 0 = any free port (tests).",
  "listen.ports.submission": "Submission port (STARTTLS, AUTH) before the offset; 0 = any free port.",
  "listen.ports.submissions": "Submission over implicit TLS before the offset; 0 = any free port.",
  "listen.ports.imap": "IMAP (STARTTLS) port before the offset; 0 = any free port.",
  "listen.ports.imaps": "IMAP over implicit TLS before the offset; 0 = any free port.",
  "listen.ports.pop3": "POP3 (STLS) port before the offset; 0 = any free port.",
  "listen.ports.pop3s": "POP3 over implicit TLS before the offset; 0 = any free port.",
  "listen.ports.http": "HTTP (ACME HTTP-01 challenges, redirect to HTTPS) before the offset; 0 = any free port.",
  "listen.ports.https": "HTTPS (setup wizard, admin, webmail) before the offset; 0 = any free port.",
  "listen.ports.odmr": "On-Demand Mail Relay (RFC 2645) of an edge (kotakpos edge add) before the offset; bound only once a home domain is paired; 0 = any free port.",
  "listen.maxConnectionsPerIp": "Concurrent connections accepted from one IP address, per listener.",
  "listen.shutdownGraceSeconds": "Seconds the server waits for sessions to finish on shutdown (SIGTERM/SIGINT).",
  "listen.processes":
    'Processes serving the protocol ports together (SO_REUSEPORT), so sessions use several cores; "auto": one per CPU, at most 4. The first process also serves HTTP, the control socket and the singleton jobs.',
  "database.url": 'Metadata database. Empty: "file:<data>/kotakpos.db" (embedded, WAL). "libsql://host" for a libSQL server.',
  "database.authToken": "Auth token for a remote libSQL server.",
  "blobs.path": 'Folder of message blobs. Empty: "<data>/blobs".',
  "blobs.url": '"s3://bucket/prefix": keep message blobs in S3-compatible object storage (several instances share them). Empty: the blobs.path folder.',
  "blobs.endpoint": 'S3 API endpoint ("https://s3.example.net", "http://127.0.0.1:9000"). Empty: AWS, by blobs.region.',
  "blobs.region": 'S3 region ("us-east-1" …).',
  "blobs.credentialsFile": 'JSON file {"accessKeyId": …, "secretAccessKey": …}. Empty: $AWS_ACCESS_KEY_ID and $AWS_SECRET_ACCESS_KEY.',
  "blobs.cacheMiB": "Memory for recently read blobs (S3 only): messages read again are not fetched again.",
  "blobs.previous": 'Where the blobs were before `kotakpos migrate-blobs` ("s3://…" or a folder): read from there while a blob is not yet in the new place. Empty: nowhere.',
  "cluster.changePollMs": "On a remote database: how often (ms) to look for mailbox changes other instances made (IMAP IDLE/NOTIFY, JMAP push); 0: never.",
  "cluster.leaseSeconds": "On a remote database: the spool lease; a stopped instance's deliveries are taken over this long after it died.",
  "tls.certFile": "PEM certificate chain to use instead of the ACME/self-signed one.",
  "tls.keyFile": "PEM private key for tls.certFile.",
  "auth.allowPlaintextOnLoopback": "Accept passwords over unencrypted connections from loopback (tests only); the one setting for SMTP submission, IMAP and POP3.",
  "auth.maxFailuresPerIp": "Failed logins per IP address per 5 minutes before further attempts are refused.",
  "dns.servers": 'DNS resolvers as "host" or "host:port" (e.g. ["127.0.0.1:5353"]). Empty: the system resolvers.',
  "dns.timeout": "Timeout of one DNS query (a duration: 500ms, 5s, 1m …).",
  "delivery.port": "Destination port for MX delivery (25; tests point it at another instance's offset port).",
  "delivery.concurrency": "Outbound deliveries running at once.",
  "delivery.perDomain": "Outbound deliveries running at once to one destination domain.",
  "delivery.retry": "Delays before each retry of a deferred delivery; the last one repeats until delivery.maxAge.",
  "delivery.maxAge": "A message still undelivered after this long bounces.",
  "delivery.warnAfter": "Send the sender a delay warning after this long (empty: never).",
  "delivery.caFile": "PEM file of extra CAs trusted when MTA-STS or DANE requires a verified MX certificate (a private CA, tests).",
  "delivery.relay.url":
    'A smarthost for outbound mail: "smtp://host:587" (STARTTLS, port 2525 tried when 587 does not connect) or "smtps://host:465" (implicit TLS). TLS is always required and its certificate verified. Empty: deliver by MX.',
  "delivery.relay.preset":
    "A known provider instead of url: sendgrid, mailgun, postmark, brevo, mailjet, smtp2go, fastmail, gmail, amazon-ses-us-east-1, amazon-ses-eu-west-1 (kotakpos dns then adds its SPF include).",
  "delivery.relay.username": "AUTH user name at the relay (empty: no AUTH).",
  "delivery.relay.passwordFile": "File holding the relay password (one line). Or set $KOTAKPOS_RELAY_PASSWORD; the password never goes in this file and is never logged.",
  "delivery.relay.caFile": "PEM file of a CA to trust for the relay's certificate (a private CA or a self-signed relay).",
  "delivery.relay.domains": "Sender domains whose mail goes through the relay. Empty: all outbound mail.",
  "limits.maxHeaderSection": "Largest header section of a message, in bytes; larger is refused (552 5.3.4) before any check runs.",
  "limits.maxHeaderField": "Largest single header field (with its folded lines), in bytes; larger is refused (554 5.6.0).",
  "limits.maxMessageSize": "Largest message accepted, in bytes (announced in SMTP SIZE and IMAP APPENDLIMIT).",
  "limits.maxRecipients": "Recipients accepted in one SMTP transaction.",
  "log.level": 'Lowest level logged to stderr: "debug", "info", "warn" or "error".',
  "log.format": '"text": one line per event (time level message key=value …); "json": one JSON object per line with the same fields (journald, Loki).',
  "metrics.listen":
    'A separate plain-HTTP listener for Prometheus ("127.0.0.1:9108"), serving /metrics without a token. Empty: none; /metrics on the web listeners needs the admin token as a bearer token.',
  "plugins.disabled": "Names of built-in or extra plugins not to load.",
  "plugins.dir": 'Folder of extra plugins (.ts/.js files). Empty: "<data>/plugins".',
};

/** Core config leaves, for docs and env overrides. */
export const coreLeaves = (): Leaf[] => leaves(ConfigSchema);

/** A value written as TOML (strings, numbers, booleans, arrays, inline tables). */
export function tomlValue(x: unknown): string {
  if (typeof x === "string") return JSON.stringify(x);
  if (typeof x === "number" || typeof x === "boolean") return String(x);
  if (Array.isArray(x)) return `[${x.map(tomlValue).join(", ")}]`;
  if (x && typeof x === "object") {
    return `{ ${Object.entries(x)
      .map(([k, val]) => `${/^[A-Za-z0-9_-]+$/.test(k) ? k : JSON.stringify(k)} = ${tomlValue(val)}`)
      .join(", ")} }`;
  }
  return '""';
}

/** A value at a key path of a nested object. */
export function getPath(obj: unknown, path: readonly (string | number)[]): unknown {
  let o: unknown = obj;
  for (const k of path) {
    if (o === null || typeof o !== "object") return undefined;
    o = (o as Record<string, unknown>)[k];
  }
  return o;
}

/** Defaults of a section schema (parsing an empty table), or undefined if it needs values. */
export function sectionDefaults(schema: GenericSchema): Record<string, unknown> | undefined {
  const r = v.safeParse(schema, {});
  return r.success ? (r.output as Record<string, unknown>) : undefined;
}
