// The `route` and `smtp.sendas` handlers: SRS bounce reversal, alias expansion, "members
// only" groups, and the SRS envelope sender for forwards to other domains.
import type { Address, AuthUser, Logger, Reply, Route, SmtpTxn, Verdict } from "../../core/types.ts";
import { normLocal, splitAddress, splitTag } from "./address.ts";
import type { Directory } from "./directory.ts";
import { createExpander, type ExpandConfig, type Expander } from "./expand.ts";
import { isSrsLocal, srsForward, srsReverse, type SrsOptions } from "./srs.ts";

export type RouteResult = Route | { kind: "pass" } | { kind: "reject"; reply: Reply } | { kind: "defer"; reply: Reply };

export interface RouterOptions {
  dir: Directory;
  expand: ExpandConfig;
  /** SRS: `rewrite` false keeps the original sender on forwards (reversal of addresses
   *  issued before still works); null: no SRS at all. */
  srs: (SrsOptions & { domain: string; rewrite: boolean }) | null;
  log: Logger;
}

const PASS = { kind: "pass" } as const;
const rejectWith = (code: number, enhanced: string, text: string): RouteResult => ({ kind: "reject", reply: { code, enhanced, text } });

export interface Router {
  route(txn: Pick<SmtpTxn, "mailFrom" | "user" | "id">, rcpt: Pick<Address, "address" | "local" | "domain">): Promise<RouteResult>;
  sendAs(user: AuthUser, address: string): Promise<Verdict>;
  expander: Expander;
}

export function createRouter(opts: RouterOptions): Router {
  const { dir, log } = opts;
  const expander = createExpander(dir, opts.expand);

  /** The envelope sender for a forward: SRS at our domain, unless the sender is null
   *  (a bounce) or already one of our domains (SPF passes for it as it is). */
  async function forwardSender(mailFrom: string, ourDomain: string): Promise<string | undefined> {
    if (!opts.srs?.rewrite || !mailFrom) return undefined;
    const p = splitAddress(mailFrom);
    if (!p) return undefined;
    if (await expander.domain(p.domain)) return undefined;
    return srsForward(mailFrom, opts.srs.domain || ourDomain, opts.srs);
  }

  async function reverseSrs(rcpt: { local: string; domain: string }): Promise<RouteResult> {
    if (!opts.srs) return rejectWith(550, "5.1.1", "No such user here (SRS is off)");
    const r = srsReverse(rcpt.local, opts.srs);
    if (!r.ok) {
      log.info("refused SRS address", { rcpt: `${rcpt.local}@${rcpt.domain}`, reason: r.reason });
      const why = r.reason === "expired" ? "has expired" : r.reason === "bad hash" ? "has a bad signature" : "is malformed";
      return rejectWith(550, "5.7.1", `This forwarding return address ${why}`);
    }
    // The original sender may be one of ours (a local user's message was forwarded).
    const e = await expander.expand(r.address);
    if (e.kind === "ok") return { kind: "route", local: e.local.map((l) => ({ accountId: l.accountId, mailbox: l.mailbox })), remote: e.remote.map((address) => ({ address })) };
    if (e.kind === "notlocal") return { kind: "route", local: [], remote: [{ address: r.address }] };
    return rejectWith(550, "5.1.1", "The original sender of the forwarded message is unknown here");
  }

  async function route(txn: Pick<SmtpTxn, "mailFrom" | "user" | "id">, rcpt: Pick<Address, "address" | "local" | "domain">): Promise<RouteResult> {
    if (isSrsLocal(rcpt.local) && (await expander.domain(rcpt.domain))) return reverseSrs(rcpt);
    const e = await expander.expand(`${rcpt.local}@${rcpt.domain}`);
    switch (e.kind) {
      case "notlocal":
        return PASS;
      case "unknown":
        // A domain alias was followed: the core's default would look in the wrong domain.
        return e.rewritten ? rejectWith(550, "5.1.1", "No such user here") : PASS;
      case "disabled":
        return rejectWith(550, "5.1.1", "No such user here");
      case "error":
        // Logged as an error: the postmaster must fix the alias table; the sender gets a
        // clear permanent failure rather than a mail storm.
        log.error("alias expansion failed", { rcpt: rcpt.address, txn: txn.id, reason: e.message });
        return rejectWith(550, "5.4.6", `Mail to this address cannot be delivered: ${e.message} (the postmaster has been told)`);
    }
    if (e.root?.kind === "group" && e.root.membersOnly && !(await isMember(e.members, txn))) {
      return rejectWith(550, "5.7.1", `Only members of ${e.address} may send to it`);
    }
    if (e.local.length === 0 && e.remote.length === 0) {
      log.warn("alias has no deliverable targets", { rcpt: e.address, skipped: e.skipped });
      return rejectWith(550, "5.1.1", "No such user here (the alias leads nowhere)");
    }
    if (e.skipped.length) log.warn("alias targets skipped (unknown or disabled)", { rcpt: e.address, skipped: e.skipped });
    const mailFrom = e.remote.length ? await forwardSender(txn.mailFrom.address, e.domain) : undefined;
    return {
      kind: "route",
      local: e.local.map((l) => ({ accountId: l.accountId, mailbox: l.mailbox })),
      remote: e.remote.map((address) => (mailFrom === undefined ? { address } : { address, mailFrom })),
    };
  }

  /** The envelope sender (or the authenticated user) is inside the group's expansion. */
  async function isMember(members: Set<string>, txn: Pick<SmtpTxn, "mailFrom" | "user">): Promise<boolean> {
    const candidates: string[] = [];
    if (txn.mailFrom.address) candidates.push(...(await expander.forms(txn.mailFrom.address)));
    if (txn.user) candidates.push(txn.user.address.toLowerCase());
    return candidates.some((c) => members.has(c.toLowerCase()));
  }

  async function sendAs(user: AuthUser, address: string): Promise<Verdict> {
    const p = splitAddress(address);
    if (!p) return PASS;
    const info = await expander.domain(p.domain);
    if (info?.kind !== "local") return PASS;
    const cs = opts.expand.caseSensitive;
    const me = user.address.toLowerCase();
    const canonical = `${normLocal(p.local, cs)}@${info.canonical}`;
    const tag = splitTag(normLocal(p.local, cs), opts.expand.separator);
    const base = tag ? `${tag.base}@${info.canonical}` : null;
    // The user's own address in another spelling: a domain alias, capitals, a +tag.
    if (canonical.toLowerCase() === me || base?.toLowerCase() === me) return { kind: "accept" };
    const keys = [canonical, ...(base ? [base] : []), `@${info.canonical}`];
    const rows = await dir.aliases(keys);
    for (const k of keys) if (rows.get(k)?.senders.includes(me)) return { kind: "accept" };
    return PASS;
  }

  return { route, sendAs, expander };
}
