// The AUTHORIZATION state of a POP3 session (RFC 1939 §4, §7): USER/PASS, AUTH PLAIN
// (RFC 5034) and STLS (RFC 2595 §4), failed logins counted and slowed down. A login the
// `auth` hook accepts is handed back to the session, which opens the maildrop.
import type { AuthResult, AuthUser, Credentials } from "../../core/types.ts";
import { decodePlain } from "../../core/sasl.ts";
import type { Command } from "./command.ts";
import type { LineItem } from "./lines.ts";
import type { Pop3Conn, Pop3Deps } from "./session.ts";
import { TRANSACTION_COMMANDS } from "./transaction.ts";

const PLAINTEXT_REFUSED = "[AUTH] Plaintext authentication disallowed on non-secure connections; use STLS first";

/** What the AUTHORIZATION state needs of its session. */
export interface AuthorizationIo {
  conn: Pop3Conn;
  deps: Pick<Pop3Deps, "auth" | "limits">;
  send(line: string): void;
  no(text: string): void;
  bad(text: string): void;
  end(line: string): void;
  ended(): boolean;
  /** STLS: drop input read before the handshake (RFC 2595 §4), or mark the session over. */
  resetInput(): void;
  closed(): void;
  /** The hook accepted these credentials. */
  loggedIn(user: AuthUser): Promise<void>;
}

export interface Authorization {
  /** An AUTH exchange waits for the client's response line. */
  readonly saslPending: boolean;
  command(cmd: Command): Promise<void>;
  saslLine(item: LineItem): Promise<void>;
}

export function createAuthorization(io: AuthorizationIo): Authorization {
  const { conn, send, no, bad } = io;
  const { limits } = io.deps;
  let pendingUser: string | null = null;
  let saslPending = false;
  let failures = 0;
  const allowed = () => conn.plaintextLoginAllowed;

  async function command(cmd: Command): Promise<void> {
    switch (cmd.keyword) {
      case "STLS":
        return stls(cmd);
      case "USER": {
        if (!cmd.rest.trim()) return bad("USER needs a user name");
        if (!allowed()) return no(PLAINTEXT_REFUSED);
        // The name as sent: the core refuses one that is not canonical (no fixing up).
        pendingUser = cmd.rest;
        return send("+OK Send your password");
      }
      case "PASS": {
        const user = pendingUser;
        pendingUser = null;
        if (user === null) return bad("Send USER first");
        if (!allowed()) return no(PLAINTEXT_REFUSED);
        // RFC 1939 §7: the password is the rest of the line, spaces included.
        if (cmd.rest === "") return bad("PASS needs a password");
        return login({ mechanism: "USER", username: user, password: cmd.rest });
      }
      case "AUTH":
        return auth(cmd);
      case "APOP":
        return no("APOP is not supported");
    }
    if (TRANSACTION_COMMANDS.has(cmd.keyword)) return bad("Not authenticated");
    return bad("Unknown command");
  }

  /** RFC 2595 §4 STLS. */
  async function stls(cmd: Command): Promise<void> {
    if (cmd.args.length) return bad("STLS takes no arguments");
    if (conn.secure) return bad("TLS is already active");
    send("+OK Begin TLS negotiation now");
    // Anything the client sent after STLS, before the handshake, is not trusted.
    io.resetInput();
    pendingUser = null;
    try {
      await conn.upgradeTls();
    } catch {
      io.closed(); // the core has closed the connection
    }
  }

  /** RFC 5034 AUTH, with the initial response (SASL-IR) or a "+ " continuation. */
  async function auth(cmd: Command): Promise<void> {
    if (cmd.args.length === 0) {
      // Not in RFC 5034, but clients from the RFC 1734 era list mechanisms this way.
      return send(allowed() ? "+OK\r\nPLAIN\r\n." : "+OK\r\n.");
    }
    if (cmd.args.length > 2) return bad("Too many arguments to AUTH");
    if (cmd.args[0]!.toUpperCase() !== "PLAIN") return no("Unsupported authentication mechanism");
    if (!allowed()) return no(PLAINTEXT_REFUSED);
    const ir = cmd.args[1];
    if (ir === undefined) {
      saslPending = true;
      return send("+ ");
    }
    // RFC 5034 §4: "=" is an empty initial response (decodePlain reads it so).
    return plainResponse(ir);
  }

  async function saslLine(item: LineItem): Promise<void> {
    saslPending = false;
    if (item.kind === "toolong") return bad("Authentication response too long");
    const text = item.bytes.toString("latin1").trim();
    if (text === "*") return no("Authentication cancelled");
    return plainResponse(text);
  }

  async function plainResponse(b64: string): Promise<void> {
    const r = decodePlain(b64);
    if (!r.ok) return bad(r.error);
    return login(r.cred);
  }

  async function login(cred: Credentials): Promise<void> {
    let res: AuthResult;
    try {
      res = await io.deps.auth(cred);
    } catch (err) {
      conn.log.error("pop3 auth hook failed", { err: (err as Error)?.message });
      return no("[SYS/TEMP] Authentication is temporarily unavailable");
    }
    if (io.ended()) return;
    if (res.kind === "user") return io.loggedIn(res.user);
    failures++;
    // RFC 3206: [AUTH] for bad credentials, [SYS/TEMP] for transient refusals (rate limit).
    const temporary = res.kind === "reject" && res.reply.code < 500;
    const text = res.kind === "reject" ? oneLine(res.reply.text) : "Authentication failed";
    const line = `-ERR ${temporary ? "[SYS/TEMP]" : "[AUTH]"} ${text}`;
    if (limits.authFailureDelayMs > 0) await Bun.sleep(limits.authFailureDelayMs);
    if (io.ended()) return;
    if (failures >= limits.maxAuthFailures) return io.end(`${line}; too many failures, closing connection`);
    send(line);
  }

  return {
    get saslPending() {
      return saslPending;
    },
    command,
    saslLine,
  };
}

function oneLine(s: string): string {
  return s.replace(/[\r\n]+/g, " ");
}
