// Authentication shared by LOGIN and AUTHENTICATE: the core's `auth` hook decides (it also
// rate-limits failures per IP and account); a session gives up after a few failures.
import type { Credentials } from "../../core/types.ts";
import { no, ok, type Result } from "./command.ts";
import type { Session } from "./session.ts";

export async function authenticate(s: Session, tag: string, cred: Credentials): Promise<Result | null> {
  let res;
  try {
    res = await s.core.hooks.first("auth", s.conn, cred);
  } catch (e) {
    s.conn.log.warn("imap auth hook failed", { err: String(e) });
    return no("Authentication temporarily unavailable", "UNAVAILABLE");
  }
  if (res.kind === "user") {
    s.login(res.user);
    return ok("Authenticated", `CAPABILITY ${s.capabilities().join(" ")}`);
  }
  s.authFailures++;
  // RFC 5530 response codes: a 4xx reply (rate limit) is UNAVAILABLE, else AUTHENTICATIONFAILED.
  const temp = res.kind === "reject" && res.reply.code < 500;
  const result = temp ? no(res.kind === "reject" ? res.reply.text : "Try again later", "UNAVAILABLE") : no("Invalid credentials", "AUTHENTICATIONFAILED");
  if (s.authFailures >= s.opts.maxAuthFailures) {
    s.send(`${tag} NO [${result.code}] ${result.text}`);
    s.bye("Too many failed logins");
    return null;
  }
  return result;
}
