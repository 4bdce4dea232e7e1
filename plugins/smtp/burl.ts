// BURL (RFC 4468): on submission, a message part (or the whole message) named by an
// authorized URL instead of sent by the client — "BURL <url> [LAST]". Chunks join BDAT's
// (RFC 3030; §3 lets the two mix), so the end of the message is BDAT's. The bytes come
// through the core's "url.fetch" hook (the imap plugin resolves its URLAUTH URLs).
import { bdat, type SessionCtx } from "./transaction.ts";
import { R } from "./reply.ts";

/** The EHLO keyword: IMAP URLs are resolved (§3). */
export const BURL_KEYWORD = "BURL imap";

export async function burl(c: SessionCtx, args: string): Promise<void> {
  if (!c.submission) return c.reply(R.unknown);
  if (!c.user) return c.reply(R.needAuth);
  const m = /^(\S+)(?: (LAST))?$/i.exec(args.trim());
  if (!m) return c.reply({ code: 501, enhanced: "5.5.4", text: "Syntax: BURL <absolute-URI> [LAST]" });
  const t = c.txn;
  if (!t) return c.reply(R.needMail);
  if (t.rcpts.length === 0) {
    c.txn = undefined;
    return c.reply(R.needRcpt);
  }
  const res = await c.deps.hooks.first("url.fetch", m[1]!, c.user);
  if (res.kind !== "data") {
    // §6: 554 5.6.6 when the URL gives nothing, 451 4.4.1 when it may later; either way
    // the transaction is over (as for a failed BDAT chunk).
    c.txn = undefined;
    c.conn.log.info("burl refused", { txn: t.id, user: c.user.address, reason: res.kind === "fail" ? res.reason : "unknown URL scheme" });
    if (res.kind === "fail" && res.temporary) return c.send({ code: 451, enhanced: "4.4.1", text: "URL could not be fetched now, try again later" });
    return c.reply({ code: 554, enhanced: "5.6.6", text: res.kind === "fail" ? res.reason : "Only authorized imap:// URLs can be fetched" });
  }
  return bdat(c, Buffer.from(res.data), res.data.length, m[2] !== undefined, undefined);
}
