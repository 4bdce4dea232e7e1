// RFC 4467 URLAUTH: GENURLAUTH issues an INTERNAL token for a URL of the user's own
// mailboxes; URLFETCH returns what an authorized URL names (to whoever its access
// identifier admits); RESETKEY invalidates the tokens of a mailbox, or of all of them.
import { AUTHED, bad, no, ok, type CommandSpec } from "../command.ts";
import { astr, str } from "../format.ts";
import { fetchImapUrl, parseImapUrl } from "../imapurl.ts";
import { canonicalName, fromWire } from "../names.ts";
import type { Session } from "../session.ts";
import { accessKey, resetKeys, splitUrlauth, token, tokenMatches } from "../urlauth.ts";

const sameUser = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

export const genurlauth: CommandSpec = {
  name: "GENURLAUTH",
  states: AUTHED,
  async run(s, c) {
    const pairs: [string, string][] = [];
    while (!c.args.done()) pairs.push([c.args.astring(), c.args.atom()]);
    if (pairs.length === 0) return bad("GENURLAUTH needs a URL and a mechanism");
    const out: string[] = [];
    for (const [url, mech] of pairs) {
      // §6.1: only INTERNAL; the URL must be absolute, ours, and end in ";URLAUTH=access".
      if (mech.toUpperCase() !== "INTERNAL") return no("Only the INTERNAL mechanism", "BADURL " + url.replace(/[\]\r\n]/g, ""));
      const u = parseImapUrl(url);
      const a = splitUrlauth(url);
      if (!u || !a || a.token || !u.user || !sameUser(u.user, s.user!.address)) return no("Not a URL of this user's to authorize", "BADURL " + url.replace(/[\]\r\n]/g, ""));
      const mb = await s.core.store.getMailbox(s.accountId, canonicalName(u.mailbox));
      if (!mb) return no("No such mailbox", "BADURL " + url.replace(/[\]\r\n]/g, ""));
      const key = (await accessKey(s.core.db, s.accountId, mb.id, true))!;
      out.push(str(`${a.rump}:internal:${token(key, a.rump)}`));
    }
    s.send(`* GENURLAUTH ${out.join(" ")}`);
    return ok("GENURLAUTH completed");
  },
};

/** The bytes an authorized URL gives this session, or null. */
async function authorized(s: Session, url: string): Promise<Uint8Array | null> {
  const u = parseImapUrl(url);
  const a = splitUrlauth(url);
  if (!u || !a || !a.token || !u.user || a.mech?.toUpperCase() !== "INTERNAL") return null;
  if (a.expire !== null && a.expire <= Date.now()) return null;
  const me = s.user!.address;
  let access: string;
  try {
    access = decodeURIComponent(a.access).toLowerCase();
  } catch {
    return null;
  }
  // §3: anonymous / authuser admit any logged-in user here; user+X only X; submit+X only a
  // submission server (we have no BURL yet): never over IMAP.
  if (access.startsWith("user+") ? !sameUser(access.slice(5), me) : access.startsWith("submit+")) return null;
  const owner = await s.core.store.getAccount(u.user);
  if (!owner) return null;
  const mb = await s.core.store.getMailbox(owner.id, canonicalName(u.mailbox));
  if (!mb) return null;
  const key = await accessKey(s.core.db, owner.id, mb.id, false);
  if (!key || !tokenMatches(key, a.rump, a.token)) return null;
  return fetchImapUrl(s, u, owner.id);
}

export const urlfetch: CommandSpec = {
  name: "URLFETCH",
  states: AUTHED,
  async run(s, c) {
    const urls: string[] = [];
    while (!c.args.done()) urls.push(c.args.astring());
    if (urls.length === 0) return bad("URLFETCH needs a URL");
    for (const url of urls) {
      const data = await authorized(s, url);
      // §6.3: a URL that gives nothing is NIL, not an error.
      if (!data) s.send(`* URLFETCH ${str(url)} NIL`);
      else s.sendParts([`* URLFETCH ${str(url)} {${data.length}}\r\n`, data]);
    }
    return ok("URLFETCH completed");
  },
};

export const resetkey: CommandSpec = {
  name: "RESETKEY",
  states: AUTHED,
  async run(s, c) {
    if (c.args.done()) {
      await resetKeys(s.core.db, s.accountId, null);
      return ok("RESETKEY completed");
    }
    const name = canonicalName(fromWire(s, c.args.astring()));
    while (!c.args.done()) if (c.args.atom().toUpperCase() !== "INTERNAL") return no("Only the INTERNAL mechanism", "CANNOT");
    const mb = await s.core.store.getMailbox(s.accountId, name);
    if (!mb) return no(`No such mailbox ${astr(name)}`, "NONEXISTENT");
    await resetKeys(s.core.db, s.accountId, mb.id);
    return ok("RESETKEY completed");
  },
};
