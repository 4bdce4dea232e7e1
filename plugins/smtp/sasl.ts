// SMTP AUTH (RFC 4954): the SASL exchange for PLAIN (RFC 4616) and LOGIN
// (draft-murchison-sasl-login), then the `auth` hook. SCRAM is not offered: the store keeps
// argon2id hashes, from which no SCRAM verifier can be derived.
import { decodePlain, decodeSaslBase64 } from "../../core/sasl.ts";
import type { AuthUser, Connection, Credentials, Hooks, Reply } from "../../core/types.ts";
import { R } from "./reply.ts";

export const LOGIN_USERNAME = "VXNlcm5hbWU6"; // "Username:"
export const LOGIN_PASSWORD = "UGFzc3dvcmQ6"; // "Password:"

export interface AuthIo {
  conn: Connection;
  hooks: Hooks;
  /** Send without counting toward the session's error limit. */
  send(r: Reply, enhanced?: boolean): void;
  /** Send an error reply (counted). */
  reply(r: Reply): void;
  closeWith(r: Reply): void;
  /** Failed attempts per connection before 421 and close. */
  maxFailures: number;
}

export interface AuthExchange {
  /** An exchange is waiting for the client's next line. */
  readonly active: boolean;
  /** "AUTH <mech> [initial-response]" once the session allowed AUTH; resolves with the
   *  user when the exchange ended in success. */
  start(args: string): Promise<AuthUser | undefined>;
  /** A client response line while active. */
  step(line: string): Promise<AuthUser | undefined>;
  cancel(): void;
}

export function createAuthExchange(io: AuthIo): AuthExchange {
  let state: { mech: "PLAIN" } | { mech: "LOGIN"; username?: string } | undefined;
  let failures = 0;

  async function verify(cred: Credentials): Promise<AuthUser | undefined> {
    const r = await io.hooks.first("auth", io.conn, cred);
    if (r.kind === "user") {
      failures = 0;
      io.send(R.authOk);
      return r.user;
    }
    if (r.kind === "reject" && r.reply.code === 421)
      io.closeWith(r.reply); // the per-IP limiter
    else if (r.kind === "reject" && r.reply.code < 500)
      io.send(r.reply); // temporary (454)
    else failed(r.kind === "reject" ? r.reply : R.authFailed);
    return undefined;
  }

  function failed(r: Reply): void {
    io.send(r);
    if (++failures >= io.maxFailures) io.closeWith(R.authTooMany);
  }

  async function step(line: string): Promise<AuthUser | undefined> {
    const a = state;
    state = undefined;
    if (!a) return undefined;
    if (line === "*") return void io.reply(R.authCancelled);
    const text = line.trim();
    const b = decodeSaslBase64(text);
    if (!b) return void io.reply(R.authBadBase64);
    if (a.mech === "PLAIN") {
      const r = decodePlain(text);
      return r.ok ? verify(r.cred) : void failed(R.authFailed);
    }
    const value = Buffer.from(b).toString("utf8");
    if (a.username === undefined) {
      state = { mech: "LOGIN", username: value };
      return void io.send({ code: 334, text: LOGIN_PASSWORD }, false);
    }
    return verify({ mechanism: "LOGIN", username: a.username, password: value });
  }

  return {
    get active() {
      return state !== undefined;
    },
    async start(args) {
      const [mechRaw, initial, extra] = args.split(/[ \t]+/);
      if (!mechRaw || extra !== undefined) return void io.reply({ code: 501, enhanced: "5.5.4", text: "Syntax: AUTH mechanism [initial-response]" });
      const mech = mechRaw.toUpperCase();
      if (mech !== "PLAIN" && mech !== "LOGIN") return void io.reply(R.authMech);
      state = mech === "PLAIN" ? { mech: "PLAIN" } : { mech: "LOGIN" };
      // RFC 4954 §4: an initial response saves a round trip ("=" is an empty one).
      if (initial === undefined) return void io.send({ code: 334, text: mech === "PLAIN" ? "" : LOGIN_USERNAME }, false);
      return step(initial);
    },
    step,
    cancel() {
      state = undefined;
    },
  };
}
