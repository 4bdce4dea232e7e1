// The contracts between the core and the plugins. Plugins import types from here and
// reach the running core only through the `Core` object handed to `setup`.
import type { Leases } from "./lease.ts";
export type { Leases } from "./lease.ts";
import type * as v from "valibot";
import type { Config } from "./config.ts";
import type { Store } from "./store/types.ts";
import type { Spool } from "./spool/types.ts";
import type { Db } from "./db/open.ts";
import type { Hono } from "hono";
import type { Command } from "./cli/command.ts";
import type { MimePart } from "./mime/types.ts";

export type { Command };

// ---------- replies and verdicts (RFC 3463 enhanced status codes) ----------

export interface Reply {
  /** SMTP-style basic code (e.g. 550); IMAP/POP3 map it to NO/-ERR. */
  code: number;
  /** Enhanced status code, e.g. "5.7.1". */
  enhanced?: string;
  text: string;
}

export type Verdict = { kind: "pass" } | { kind: "accept" } | { kind: "reject"; reply: Reply } | { kind: "defer"; reply: Reply } | { kind: "disconnect"; reply: Reply };

// ---------- logging ----------

export type LogLevel = "debug" | "info" | "warn" | "error";
export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  /** A logger whose lines carry these fields too (e.g. { conn: "c12" }). */
  child(fields: Record<string, unknown>): Logger;
}

// ---------- connections ----------

/** Per-connection state; plugins add their keys by interface merging:
 *  declare module "../../core/types.ts" { interface ConnState { myKey?: number } } */
export interface ConnState {}

export interface TlsInfo {
  protocol: string; // "TLSv1.3"
  cipher: string; // "TLS_AES_256_GCM_SHA384"
  servername?: string;
}

export type ListenerMode = "plain" | "implicit-tls";

export interface Connection {
  readonly id: string; // "c12", unique per process, used in log lines
  readonly service: string; // listener name: "smtp", "submission", "imaps" …
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localAddress: string;
  readonly localPort: number;
  readonly isLoopback: boolean;
  readonly secure: boolean;
  /** May a password be sent here: over TLS, or from loopback when
   *  `auth.allowPlaintextOnLoopback` is on (tests). Computed by the core for every protocol. */
  readonly plaintextLoginAllowed: boolean;
  readonly tls?: TlsInfo;
  readonly log: Logger;
  /** Aborted when the server shuts down: say goodbye and close. */
  readonly closing: AbortSignal;
  readonly state: ConnState;
  /** Bytes from the peer (decrypted after a TLS upgrade). */
  onData(cb: (chunk: Buffer) => void): void;
  /** Called once, whatever closed the connection. */
  onClose(cb: () => void): void;
  write(data: string | Uint8Array): void;
  /** write() for a caller that reuses its buffer: true when the connection kept no reference
   *  to `data` (sent or copied), so the caller may fill it again at once; false when it may
   *  still hold it (queued behind earlier writes): then it must be left alone. */
  writeReusable?(data: Uint8Array): boolean;
  /** Resolves when the socket's write buffer has drained (backpressure). */
  drain(): Promise<void>;
  pause(): void;
  resume(): void;
  /** STARTTLS (RFC 3207 / RFC 2595 / RFC 9051 §6.2.1): server-side handshake on the
   *  same socket. Call after writing the "go ahead" reply. Rejects if the handshake fails
   *  (the connection is then closed). Bytes pipelined before the handshake are dropped. */
  upgradeTls(): Promise<void>;
  /** Idle timeout in ms (0 = none); on expiry `onIdle` runs (default: close). */
  setIdleTimeout(ms: number, onIdle?: () => void): void;
  /** Flush pending writes, then close. */
  close(): void;
  destroy(): void;
}

export interface ListenSpec {
  /** Listener name, used in the banner and logs: "smtp", "submission", "submissions",
   *  "imap", "imaps", "pop3", "pop3s", "http", "https". */
  name: string;
  /** Standard port (25, 587 …); the core adds the configured port offset. */
  port: number;
  mode: ListenerMode;
  /** Called for each accepted connection (after per-IP limits). */
  onConnection(conn: Connection): void;
  /** Called instead of onConnection when the core refuses (too many connections
   *  from the IP): write a protocol-specific refusal; the core closes afterwards. */
  onRefuse?(conn: Connection, reply: Reply): void;
  /** The certificate of this (STARTTLS) listener instead of the
   *  tls.certificate hook's: an edge's ODMR port presents the one its pairing codes pin. */
  certificate?: () => Promise<{ key: string; cert: string }>;
}

export interface Listener {
  readonly name: string;
  readonly port: number; // actual bound port
  readonly address: string;
  close(): Promise<void>;
}

// ---------- authentication ----------

export interface Credentials {
  mechanism: "PLAIN" | "LOGIN" | "SCRAM-SHA-256" | "USER";
  username: string;
  password: string;
  /** SASL authorization identity, when given and different. */
  authzid?: string;
}

export interface AuthUser {
  accountId: number;
  address: string; // canonical "user@domain"
}

/** A DNS record to publish and, when checked, what DNS has. */
export interface DnsRecordStatus {
  name: string;
  type: string; // "MX", "TXT", "A", "AAAA", "PTR", "SRV", "CNAME" …
  /** As it goes in a zone file. */
  value: string;
  purpose: string;
  note?: string;
  status?: "right" | "missing" | "wrong" | "error";
  found?: string[];
  detail?: string;
}

/** A web request's user, from the `http.auth` hook. */
export interface HttpAuth {
  kind: "user";
  user: AuthUser;
  /** The account may use the admin pages and the admin API. */
  admin: boolean;
  /** The session's CSRF token. */
  csrf: string;
}

export type AuthResult = { kind: "pass" } | { kind: "user"; user: AuthUser } | { kind: "reject"; reply: Reply };

// ---------- SMTP transaction ----------

/** Per-transaction state; plugins add keys by interface merging. */
export interface TxnState {
  /** Inbound DMARC outcome (RFC 7489), set by the mailauth plugin as its smtp.data check
   *  starts, so other checks (plugins/junk's sender reputation) can await it. */
  dmarc?: Promise<{ result: string; domain: string } | null>;
  /** Accounts whose copy goes to Junk, set by the junk plugin as its smtp.data check starts
   *  (plugins/greylist remembers a DMARC-aligned sender only when its mail was kept). */
  junked?: Promise<number[]>;
}

export interface Address {
  /** As given, without angle brackets; "" for the null reverse-path. */
  address: string;
  local: string;
  /** Lower-cased, IDN in Unicode (U-label) form. */
  domain: string;
  params: Record<string, string | true>;
}

export interface SmtpTxn {
  readonly id: string; // queue id, e.g. "t1a2b3"
  readonly conn: Connection;
  readonly helo: string;
  readonly user?: AuthUser;
  readonly mailFrom: Address;
  readonly rcpts: Address[];
  readonly state: TxnState;
  /** True for our own bounces (DSNs): inbound checks skip them. */
  readonly internal?: boolean;
}

/** Where a recipient goes after alias expansion. */
export interface Route {
  kind: "route";
  /** Local mailboxes (account id + mailbox name, usually "INBOX"). */
  local: { accountId: number; mailbox: string }[];
  /** Remote addresses to queue for MX delivery (with SRS sender when forwarding). */
  remote: { address: string; mailFrom?: string }[];
  /** A domain we are the MX of and pass on (an edge's paired home domain): accepted
   *  from unauthenticated senders like a local one. */
  relay?: boolean;
}

export interface IncomingMessage {
  /** The message as received (CRLF line endings), without the headers we add. */
  raw: Uint8Array;
  /** Headers to prepend (Received, Authentication-Results …), CRLF-terminated. */
  prefix: string[];
  /** Parsed headers (lower-cased names), for checks that need them. */
  headers: { name: string; value: string }[];
  /** raw's MIME structure (offsets from 0), parsed at the first call and then shared by
   *  the checks that need it and the store (which would parse it again otherwise). */
  structure?: () => MimePart;
}

export type DataResult = Verdict | { kind: "quarantine"; reason: string };

export interface DataCheck {
  kind: "check";
  verdict: DataResult;
  /** Header lines to add at the top, e.g. "Authentication-Results: …". */
  headers?: string[];
  /** Header fields of msg.raw to drop before the message is stored, as byte ranges
   *  [start, end) covering whole fields with their CRLF (e.g. forged Authentication-Results
   *  carrying our authserv-id, RFC 8601 §5). Ranges from all checks are merged. */
  removeHeaders?: { start: number; end: number }[];
  /** Local accounts whose copies go to their Junk mailbox with the $Junk keyword (a
   *  per-account verdict, e.g. plugins/junk's classifier); the others keep their route. */
  junk?: number[];
  /** Header lines for one account's copy only (a per-account verdict, e.g. plugins/junk's
   *  X-Spam-Score), where `headers` would show every recipient the others' verdicts. */
  accountHeaders?: { accountId: number; headers: string[] }[];
}

export interface OutgoingMessage {
  readonly id: string;
  readonly mailFrom: string;
  readonly recipients: string[];
  readonly domain: string; // destination domain
  readonly fromDomain: string; // domain of the From: header / envelope sender
  /** The message without the headers added by deliver.remote.before. */
  readonly raw: Uint8Array;
}

export interface NextHop {
  host: string;
  port?: number;
  /** Lower number first. */
  preference: number;
  requireTls?: boolean;
  /** TLS with a certificate valid for `host` (MTA-STS enforce, DANE); names the policy, e.g.
   *  "MTA-STS policy of example.com". Implies requireTls. */
  verifyTls?: string;
  /** DANE (RFC 7672): the host's usable TLSA records from a validated (AD) answer; TLS
   *  is then required and the certificate must match one of them. */
  tlsa?: { usage: number; selector: number; mtype: number; data: string }[];
  /** TLS from the first byte (port 465) instead of STARTTLS. */
  implicitTls?: boolean;
  /** AUTH after TLS (a smarthost). */
  auth?: { username: string; password: string };
  /** Extra CAs trusted for this hop's certificate (a relay with a private CA). */
  ca?: string[];
  /** A connection a plugin already holds (an edge's ODMR link to a home, RFC 2645),
   *  used instead of resolving and dialing `host`; the session starts at the greeting. */
  connect?: () => Promise<import("node:stream").Duplex>;
}

// ---------- hooks ----------

export interface HookOpts {
  signal: AbortSignal;
}

/** Every hook with its arguments and result; how each runs and what a failed handler
 *  yields is declared in HOOKS below. Every result carries a `kind` ("pass": let the next
 *  handler decide). */
export interface HookMap {
  connect: (conn: Connection) => Verdict;
  "tls.certificate": (servername: string | undefined) => { kind: "certificate"; key: string; cert: string } | Pass;
  /** Every certificate a plugin holds, with its names (servers that need the whole SNI
   *  table up front, like Bun.serve on 443, ask for it at start and on each change). */
  "tls.certificates": () => { kind: "certificates"; certificates: TlsCertificate[] } | Pass;
  auth: (conn: Connection | undefined, cred: Credentials) => AuthResult;
  "smtp.helo": (conn: Connection, helo: string) => Verdict;
  "smtp.mail": (txn: SmtpTxn, addr: Address) => Verdict;
  /** Expand a recipient (returns pass to let the next handler decide). The core's default
   *  (local account → INBOX, unknown local user → 550 5.1.1, other domain → remote) runs last. */
  route: (txn: SmtpTxn, rcpt: Address) => Route | Pass | { kind: "reject"; reply: Reply } | { kind: "defer"; reply: Reply };
  "smtp.rcpt": (txn: SmtpTxn, rcpt: Address, route: Route) => Verdict;
  "smtp.data": (txn: SmtpTxn, msg: IncomingMessage) => DataCheck;
  "deliver.remote.before": (msg: OutgoingMessage) => { kind: "headers"; headers: string[] } | Pass;
  /** May the user send with this MAIL FROM address? accept / reject / pass. */
  "smtp.sendas": (user: AuthUser, address: string) => Verdict;
  "message.queued": (info: { id: string; recipients: string[] }) => void;
  delivered: (info: { id: string; recipient: string; reply: string }) => void;
  /** May move the next attempt (the first handler answering "retry" wins). */
  deferred: (info: { id: string; recipient: string; error: string; attempts: number }) => { kind: "retry"; retryAt: number } | Pass | void;
  bounced: (info: { id: string; recipient: string; error: string }) => void;
  /** A check refused a client at SMTP time (connect, HELO, MAIL, RCPT, DATA): who, and the
   *  reply it got — for the admin's list of rejections. */
  "smtp.rejected": (info: SmtpRejection) => void;
  /** Where to deliver the message for `domain` (smarthost, MTA-STS); pass = MX lookup;
   *  "defer" holds the mail (a policy no MX can satisfy). */
  nextHop: (msg: OutgoingMessage, domain: string) => { kind: "hops"; hops: NextHop[] } | Pass | { kind: "defer"; reply: Reply };
  "http.routes": (app: import("hono").Hono) => void;
  /** Who sends this web request (a session cookie …); the first handler that knows wins.
   *  A cookie-authenticated write must carry the session's `csrf` token (header
   *  X-CSRF-Token or form field _csrf): callers compare it before acting. */
  "http.auth": (req: Request) => HttpAuth | { kind: "pass" };
  /** The DNS records a local domain needs (each plugin adds its own), checked against DNS
   *  when `check` is true. */
  "dns.records": (domain: string, check: boolean) => DnsRecordStatus[];
  /** Extra lines for the start-up banner (e.g. the setup URL), given the web base URLs. */
  banner: (web: { http?: string; https?: string }) => string[];
  /** Publish ("add") or withdraw ("delete") an ACME DNS-01 TXT record (RFC 8555 §8.4) at
   *  `name` (_acme-challenge.<domain>); the acme plugin's RFC 2136 provider is one handler. */
  "acme.dns01": (change: { action: "add" | "delete"; name: string; value: string }) => { kind: "done" } | { kind: "failed"; reason: string } | { kind: "pass" };
  disconnect: (conn: Connection) => void;
  /** The bytes an authorized URL names, fetched for a message submission by `user` (SMTP
   *  BURL, RFC 4468 §3); the imap plugin resolves its URLAUTH URLs (RFC 4467). "fail":
   *  known but refused or unreadable (temporary when worth retrying); pass: not known. */
  "url.fetch": (url: string, user: AuthUser) => { kind: "data"; data: Uint8Array } | { kind: "fail"; temporary: boolean; reason: string } | Pass;
}

export type Pass = { kind: "pass" };

export interface SmtpRejection {
  stage: "connect" | "helo" | "mail" | "rcpt" | "data";
  ip: string;
  helo?: string;
  mailFrom?: string;
  rcpt?: string;
  /** Submission (an authenticated user), not inbound MX traffic. */
  submission: boolean;
  reply: Reply;
}

/** How a hook runs: "first" — handlers in order, the first result that is not pass wins
 *  (pass if none); "all" — every handler in order, results collected; "parallel" — every
 *  handler at once, results collected; "notify" — fire and forget. */
export type HookMode = "first" | "all" | "parallel" | "notify";

/** A temporary failure: what an unknown error in a handler becomes (never a 5xx). */
export const TEMP_FAILURE: Reply = { code: 451, enhanced: "4.3.0", text: "Temporary failure, please try again later" };

/** Each hook's run mode and what a handler that throws or times out yields instead of
 *  its result (logged; undefined = nothing, the handler is skipped). */
export const HOOKS = {
  connect: { mode: "first", failure: { kind: "defer", reply: TEMP_FAILURE } },
  "tls.certificate": { mode: "first", failure: { kind: "pass" } },
  "tls.certificates": { mode: "all", failure: undefined },
  auth: { mode: "first", failure: { kind: "reject", reply: { code: 454, enhanced: "4.7.0", text: "Temporary authentication failure" } } },
  "smtp.helo": { mode: "first", failure: { kind: "defer", reply: TEMP_FAILURE } },
  "smtp.mail": { mode: "first", failure: { kind: "defer", reply: TEMP_FAILURE } },
  route: { mode: "first", failure: { kind: "defer", reply: TEMP_FAILURE } },
  "smtp.rcpt": { mode: "first", failure: { kind: "defer", reply: TEMP_FAILURE } },
  "smtp.data": { mode: "parallel", failure: { kind: "check", verdict: { kind: "defer", reply: TEMP_FAILURE } } },
  "deliver.remote.before": { mode: "all", failure: undefined },
  "smtp.sendas": { mode: "first", failure: { kind: "defer", reply: TEMP_FAILURE } },
  "message.queued": { mode: "notify", failure: undefined },
  delivered: { mode: "notify", failure: undefined },
  deferred: { mode: "all", failure: undefined },
  bounced: { mode: "notify", failure: undefined },
  "smtp.rejected": { mode: "notify", failure: undefined },
  nextHop: { mode: "first", failure: { kind: "pass" } },
  "http.routes": { mode: "all", failure: undefined },
  "http.auth": { mode: "first", failure: { kind: "pass" } },
  "dns.records": { mode: "all", failure: undefined },
  banner: { mode: "all", failure: undefined },
  "acme.dns01": { mode: "first", failure: { kind: "failed", reason: "the DNS-01 handler failed" } },
  disconnect: { mode: "notify", failure: undefined },
  "url.fetch": { mode: "first", failure: { kind: "fail", temporary: true, reason: "URL fetch failed" } },
} as const satisfies { [K in keyof HookMap]: { mode: HookMode; failure: ReturnType<HookMap[K]> | undefined } };

export type HookName = keyof HookMap;
export type HookHandler<K extends HookName> = (...args: [...Parameters<HookMap[K]>, HookOpts]) => Promise<ReturnType<HookMap[K]>> | ReturnType<HookMap[K]>;

/** What running a hook yields, by its declared mode. */
export type HookRun<K extends HookName> = (typeof HOOKS)[K]["mode"] extends "first"
  ? Promise<ReturnType<HookMap[K]>>
  : (typeof HOOKS)[K]["mode"] extends "notify"
    ? void
    : Promise<ReturnType<HookMap[K]>[]>;

export interface Hooks {
  on<K extends HookName>(name: K, handler: HookHandler<K>, opts?: { plugin?: string; timeoutMs?: number; last?: boolean }): void;
  /** Run a hook as HOOKS declares it. */
  run<K extends HookName>(name: K, ...args: Parameters<HookMap[K]>): HookRun<K>;
  /** The same for a hook declared "first" (throws for any other). */
  first<K extends HookName>(name: K, ...args: Parameters<HookMap[K]>): Promise<ReturnType<HookMap[K]>>;
  /** The same for a hook declared "all" (throws for any other). */
  all<K extends HookName>(name: K, ...args: Parameters<HookMap[K]>): Promise<ReturnType<HookMap[K]>[]>;
  /** The same for a hook declared "parallel" (throws for any other). */
  parallel<K extends HookName>(name: K, ...args: Parameters<HookMap[K]>): Promise<ReturnType<HookMap[K]>[]>;
  /** The same for a hook declared "notify" (throws for any other). */
  notify<K extends HookName>(name: K, ...args: Parameters<HookMap[K]>): void;
  /** Registered handlers (plugin names), in run order, for `kotakpos plugins`. */
  list(): { hook: HookName; plugin: string }[];
}

// ---------- TLS ----------

export interface TlsCertificate {
  names: string[];
  key: string;
  cert: string;
}

export interface Tls {
  /** Secure context options for a servername (via the tls.certificate hook, falling
   *  back to the configured or self-signed certificate). */
  certificateFor(servername: string | undefined): Promise<{ key: string; cert: string }>;
  /** The default pair and every plugin's certificate (tls.certificates), for SNI tables. */
  certificates(): Promise<{ fallback: { key: string; cert: string }; named: TlsCertificate[] }>;
  /** A certificate changed (issued, renewed, file replaced): every listener gives new
   *  connections the new one; open connections keep theirs. */
  changed(): void;
  /** Called after each change; returns the unsubscribe function. */
  onChange(cb: () => void): () => void;
}

// ---------- the core ----------

export interface Core {
  readonly config: Config;
  readonly dataDir: string;
  readonly log: Logger;
  readonly hooks: Hooks;
  readonly store: Store;
  readonly spool: Spool;
  readonly db: Db;
  readonly tls: Tls;
  /** Singleton jobs across instances on one database (core/lease.ts). */
  readonly leases: Leases;
  /** Bind a listener (port offset applied). Listeners are closed on shutdown. */
  listen(spec: ListenSpec): Promise<Listener>;
  /** Register a function to run on shutdown (reverse order). */
  onShutdown(fn: () => Promise<void> | void): void;
  /** Aborted when shutdown begins. */
  readonly closing: AbortSignal;
}

/** The Hono env of admin routes: the HTTP server puts the authenticated admin on the
 *  context (`c.get("adminUser")`) before a plugin's admin routes run. */
export type AdminEnv = { Variables: { adminUser?: AuthUser } };

/** Admin operations a plugin offers, by method name. Callable as "<plugin>.<method>"
 *  through the control socket of a running server (so its sessions see the change) or
 *  directly on the database when none runs; arguments and results must be JSON. */
export type AdminMethods = Record<string, (...args: never[]) => Promise<unknown>>;

export interface Plugin<S extends v.GenericSchema = v.GenericSchema> {
  name: string;
  /** Schema of the plugin's own config section (`[name]` in kotakpos.toml). */
  config?: S;
  setup(core: Core, config: v.InferOutput<S>): void | (() => void | Promise<void>) | Promise<void | (() => void | Promise<void>)>;
  /** CLI commands it adds: `kotakpos <command.name> …` (built-in and extra plugins). */
  commands?: Command[];
  /** Its admin methods (see AdminMethods). Built from the core without running `setup`,
   *  so they work whether or not a server runs. */
  admin?(core: Core, config: v.InferOutput<S>): AdminMethods;
  /** Its admin HTTP routes, mounted under /api/admin behind the admin token. */
  adminRoutes?(core: Core, config: v.InferOutput<S>): Hono<AdminEnv>;
}

export function definePlugin<S extends v.GenericSchema>(p: Plugin<S>): Plugin<S> {
  return p;
}

export const pass = { kind: "pass" } as const;
export const accept = { kind: "accept" } as const;
export const reject = (code: number, enhanced: string, text: string): Verdict => ({ kind: "reject", reply: { code, enhanced, text } });
export const defer = (code: number, enhanced: string, text: string): Verdict => ({ kind: "defer", reply: { code, enhanced, text } });
export const disconnect = (code: number, enhanced: string, text: string): Verdict => ({ kind: "disconnect", reply: { code, enhanced, text } });
