// EmailSubmission/get, /changes, /set (RFC 8621 §7) through the same steps as submission
// on port 587: the send-as check (`smtp.sendas`), recipient routing (`route`: aliases,
// local accounts, remote), the message checks (`smtp.data`), then the durable spool,
// whose remote delivery signs with DKIM (`deliver.remote.before`). Bcc is removed
// (§7.5), the envelope comes from the headers when not given.
import { and, desc, eq, gt, inArray } from "drizzle-orm";
import { jmapSubmissions } from "./schema.ts";
import { emailObjectId, parseObjectId, threadObjectId } from "../../core/store/ids.ts";
import type { Address, AuthUser, Core, DataCheck, IncomingMessage, Route, SmtpTxn, TxnState } from "../../core/types.ts";
import type { DeliveryTarget } from "../../core/store/types.ts";
import { requestConnection } from "./auth.ts";
import { MethodError, setError, type SetError } from "./errors.ts";
import { asAddresses, rawFields } from "./headers.ts";
import { identities } from "./identity.ts";
import { ownAccount, resolveId, type Method, type MethodCtx } from "./context.ts";
import { getArgs, pick } from "./standard.ts";
import type { Invocation } from "./refs.ts";

const PROPS = ["id", "identityId", "emailId", "threadId", "envelope", "sendAt", "undoStatus", "deliveryStatus", "dsnBlobIds", "mdnBlobIds"] as const;
const MAX_RCPTS = 100;
const idOf = (n: number) => "s" + n.toString(36);
const numOf = (id: unknown) => (typeof id === "string" && /^s[0-9a-z]{1,11}$/.test(id) ? parseInt(id.slice(1), 36) : null);

interface Envelope {
  mailFrom: { email: string; parameters: Record<string, string | null> | null };
  rcptTo: { email: string; parameters: Record<string, string | null> | null }[];
}

export function splitAddress(email: string): Address | null {
  const at = email.lastIndexOf("@");
  if (at <= 0 || at === email.length - 1 || /[\s<>]/.test(email)) return null;
  return { address: email, local: email.slice(0, at), domain: email.slice(at + 1).toLowerCase(), params: {} };
}

/** The message without its Bcc fields (RFC 8621 §7.5: removed before sending). */
function withoutBcc(bytes: Uint8Array, headerEnd: number): Uint8Array {
  const head = Buffer.from(bytes.subarray(0, headerEnd)).toString("latin1");
  const kept = head.replace(/^bcc:.*\r?\n(?:[ \t].*\r?\n)*/gim, "");
  if (kept.length === head.length) return bytes;
  return Buffer.concat([Buffer.from(kept, "latin1"), Buffer.from(bytes.subarray(headerEnd))]);
}

/** Routes each recipient as SMTP RCPT does (`route`, then `smtp.rcpt`): local mailbox
 *  targets and remote addresses, or the recipients that cannot be reached. */
export async function routeAll(core: Core, txn: SmtpTxn, rcpts: string[]): Promise<{ local: DeliveryTarget[]; remote: { address: string; mailFrom?: string }[] } | { invalid: string[] }> {
  const local: DeliveryTarget[] = [];
  const remote: { address: string; mailFrom?: string }[] = [];
  const invalid: string[] = [];
  for (const email of rcpts) {
    const addr = splitAddress(email);
    if (!addr) {
      invalid.push(email);
      continue;
    }
    const isLocal = await core.store.isLocalDomain(addr.domain);
    const routed = await core.hooks.first("route", txn, addr);
    let route: Route | null = null;
    if (routed.kind === "route") route = routed;
    else if (routed.kind === "pass" && !isLocal) route = { kind: "route", local: [], remote: [{ address: addr.address }] };
    if (!route || (route.local.length === 0 && route.remote.length === 0)) {
      invalid.push(email);
      continue;
    }
    const v = await core.hooks.first("smtp.rcpt", txn, addr, route);
    if (v.kind === "reject" || v.kind === "defer" || v.kind === "disconnect") {
      invalid.push(email);
      continue;
    }
    txn.rcpts.push(addr);
    for (const l of route.local) local.push({ accountId: l.accountId, mailbox: l.mailbox });
    remote.push(...route.remote);
  }
  return invalid.length ? { invalid } : { local, remote };
}

export interface Submitted {
  spoolId: string;
}

/** Runs the submission pipeline for one message; a SetError when refused. */
export async function submit(core: Core, user: AuthUser, remote: string, bytes: Uint8Array, headerEnd: number, env: Envelope): Promise<Submitted | SetError> {
  const from = splitAddress(env.mailFrom.email);
  if (!from) return setError("invalidEnvelope", "bad mailFrom", ["envelope"]);
  const sendas = await core.hooks.first("smtp.sendas", user, `${from.local}@${from.domain}`);
  if (sendas.kind !== "accept" && from.address.toLowerCase() !== user.address.toLowerCase()) return setError("forbiddenMailFrom", `you may not send as ${from.address}`);
  if (sendas.kind === "reject" || sendas.kind === "defer" || sendas.kind === "disconnect") return setError("forbiddenMailFrom", sendas.reply.text);
  if (!env.rcptTo.length) return setError("noRecipients", "no recipients");
  if (env.rcptTo.length > MAX_RCPTS) return setError("tooManyRecipients", `at most ${MAX_RCPTS}`, ["envelope"]);
  const conn = requestConnection(core, remote, 0, false);
  const txn: SmtpTxn = { id: `jmap${Date.now().toString(36)}`, conn, helo: "jmap", user, mailFrom: from, rcpts: [], state: {} as TxnState };
  const routed = await routeAll(
    core,
    txn,
    env.rcptTo.map((r) => r.email),
  );
  if ("invalid" in routed) return { ...setError("invalidRecipients", "these recipients cannot be reached"), invalidRecipients: routed.invalid };
  const { local, remote: remoteRcpts } = routed;
  const raw = Buffer.from(withoutBcc(bytes, headerEnd));
  const headers = rawFields(raw, 0, headerEnd).map((f) => ({ name: f.name.toLowerCase(), value: f.value.trim() }));
  const msg: IncomingMessage = { raw, prefix: [`Received: from jmap by ${core.config.hostname} (kotakpos) with HTTP id ${txn.id}; ${new Date().toUTCString()}\r\n`], headers };
  const checks = (await core.hooks.parallel("smtp.data", txn, msg)) as (DataCheck | null | undefined)[];
  const headerLines: string[] = [];
  for (const c of checks) {
    if (!c) continue;
    const v = c.verdict;
    if (v.kind === "reject" || v.kind === "defer" || v.kind === "disconnect") return setError("forbiddenToSend", v.reply.text);
    for (const h of c.headers ?? []) if (/^[\x21-\x39\x3b-\x7e]+:[^\r\n]*(\r?\n[ \t][^\r\n]*)*\r?\n?$/.test(h)) headerLines.push(h.replace(/\r?\n?$/, "\r\n"));
  }
  const { id } = await core.spool.accept({ raw, prefix: [...headerLines, ...msg.prefix], mailFrom: from.address, local, remote: remoteRcpts });
  return { spoolId: id };
}

async function subState(ctx: MethodCtx): Promise<string> {
  const r = await ctx.core.db.orm.select({ id: jmapSubmissions.id }).from(jmapSubmissions).where(eq(jmapSubmissions.accountId, ctx.user.accountId)).orderBy(desc(jmapSubmissions.id)).limit(1);
  return String(r[0]?.id ?? 0);
}

export function submissionMethods(): Record<string, Method> {
  const get: Method = async (args, ctx) => {
    const accountId = await ownAccount(args, ctx);
    const { ids, properties } = getArgs(args, ctx, PROPS);
    const nums = ids ? ids.map(numOf).filter((n): n is number => n !== null) : null;
    const rows = await ctx.core.db.orm
      .select()
      .from(jmapSubmissions)
      .where(nums ? and(eq(jmapSubmissions.accountId, accountId), inArray(jmapSubmissions.id, nums)) : eq(jmapSubmissions.accountId, accountId));
    const list: Record<string, unknown>[] = [];
    for (const r of rows) {
      const env = JSON.parse(r.envelope) as Envelope;
      const queue = await ctx.core.spool.get(r.spoolId);
      const deliveryStatus: Record<string, unknown> = {};
      for (const rc of env.rcptTo) {
        const q = queue.find((e) => e.recipient.toLowerCase() === rc.email.toLowerCase());
        deliveryStatus[rc.email] = {
          smtpReply: q?.lastError ?? "250 2.0.0 OK",
          delivered: !q ? "yes" : q.status === "delivered" ? "yes" : q.status === "failed" ? "no" : "queued",
          displayed: "unknown",
        };
      }
      const obj = {
        id: idOf(r.id),
        identityId: r.identityId,
        emailId: emailObjectId(r.emailId),
        threadId: threadObjectId(r.threadId),
        envelope: env,
        sendAt: new Date(r.sendAt).toISOString().replace(/\.\d{3}Z$/, "Z"),
        undoStatus: "final",
        deliveryStatus,
        dsnBlobIds: [],
        mdnBlobIds: [],
      };
      list.push(pick(obj, properties, PROPS));
    }
    const found = new Set(list.map((x) => x.id));
    return { accountId: args.accountId, state: await subState(ctx), list, notFound: ids ? ids.filter((id) => !found.has(id)) : [] };
  };

  const changes: Method = async (args, ctx) => {
    const accountId = await ownAccount(args, ctx);
    const since = typeof args.sinceState === "string" && /^\d+$/.test(args.sinceState) ? Number(args.sinceState) : null;
    if (since === null) throw new MethodError("cannotCalculateChanges", "unknown state");
    const rows = await ctx.core.db.orm
      .select({ id: jmapSubmissions.id })
      .from(jmapSubmissions)
      .where(and(eq(jmapSubmissions.accountId, accountId), gt(jmapSubmissions.id, since)));
    return { accountId: args.accountId, oldState: String(since), newState: await subState(ctx), hasMoreChanges: false, created: rows.map((r) => idOf(r.id)), updated: [], destroyed: [] };
  };

  const set: Method = async (args, ctx, callId) => {
    const accountId = await ownAccount(args, ctx);
    const oldState = await subState(ctx);
    if (args.ifInState !== undefined && args.ifInState !== null && args.ifInState !== oldState) throw new MethodError("stateMismatch", "ifInState does not match");
    const created: Record<string, unknown> = {};
    const notCreated: Record<string, SetError> = {};
    const ids = await identities(ctx.core, ctx.user);
    for (const [cid, o] of Object.entries((args.create ?? {}) as Record<string, Record<string, unknown>>)) {
      const identity = ids.find((i) => i.id === resolveId(o?.identityId, ctx));
      if (!identity) {
        notCreated[cid] = setError("invalidProperties", "no such identity", ["identityId"]);
        continue;
      }
      const n = parseObjectId("e", resolveId(o.emailId, ctx));
      const [m] = n === null ? [] : await ctx.core.store.emailsById(accountId, [n]);
      if (!m) {
        notCreated[cid] = setError("invalidProperties", "no such email", ["emailId"]);
        continue;
      }
      const bytes = await ctx.core.store.read(m);
      const fields = rawFields(bytes, m.structure.headerStart, m.structure.bodyStart);
      // RFC 8621 §7.5: the From must be one the identity may use.
      const fromAddrs = fields.filter((f) => f.name.toLowerCase() === "from").flatMap((f) => asAddresses(f.value));
      if (fromAddrs.length !== 1 || fromAddrs[0]!.email.toLowerCase() !== identity.email.toLowerCase()) {
        const allowed = await Promise.all(fromAddrs.map((a) => ctx.core.hooks.first("smtp.sendas", ctx.user, a.email)));
        if (!fromAddrs.length || !allowed.every((v) => v.kind === "accept")) {
          notCreated[cid] = setError("forbiddenFrom", "the From header is not an address of this identity");
          continue;
        }
      }
      let env = o.envelope as Envelope | null | undefined;
      if (!env) {
        const rcpts = fields.filter((f) => ["to", "cc", "bcc"].includes(f.name.toLowerCase())).flatMap((f) => asAddresses(f.value).map((a) => a.email));
        env = { mailFrom: { email: identity.email, parameters: null }, rcptTo: [...new Set(rcpts)].map((email) => ({ email, parameters: null })) };
      }
      if (!env.mailFrom || !Array.isArray(env.rcptTo)) {
        notCreated[cid] = setError("invalidProperties", "bad envelope", ["envelope"]);
        continue;
      }
      const r = await submit(ctx.core, ctx.user, "jmap", bytes, m.structure.bodyStart, env);
      if ("type" in r) {
        notCreated[cid] = r;
        continue;
      }
      const now = Date.now();
      const row = await ctx.core.db.write(async (tx) =>
        tx.orm
          .insert(jmapSubmissions)
          .values({ accountId, identityId: identity.id, emailId: m.emailId, threadId: m.threadId, envelope: JSON.stringify(env), sendAt: now, spoolId: r.spoolId, modseq: 0 })
          .returning({ id: jmapSubmissions.id }),
      );
      const id = idOf(row[0]!.id);
      ctx.createdIds.set(cid, id);
      created[cid] = { id, undoStatus: "final", sendAt: new Date(now).toISOString().replace(/\.\d{3}Z$/, "Z"), threadId: threadObjectId(m.threadId) };
    }
    const notUpdated: Record<string, SetError> = {};
    for (const id of Object.keys((args.update ?? {}) as object)) notUpdated[id] = setError("cannotUnsend", "submissions are sent at once (undoStatus final)");
    const notDestroyed: Record<string, SetError> = {};
    for (const id of (args.destroy ?? []) as string[]) notDestroyed[id] = setError("forbidden", "sent submissions are kept");
    const orNull = <T extends object>(o: T) => (Object.keys(o).length ? o : null);
    const response = {
      accountId: args.accountId,
      oldState,
      newState: await subState(ctx),
      created: orNull(created),
      updated: null,
      destroyed: null,
      notCreated: orNull(notCreated),
      notUpdated: orNull(notUpdated),
      notDestroyed: orNull(notDestroyed),
    };
    // §7.5: an implicit Email/set for the successful ones ("#cid" or a submission id).
    const emailFor = async (ref: string): Promise<string | null> => {
      const subId = ref.startsWith("#") ? ctx.createdIds.get(ref.slice(1)) : ref;
      if (!subId || !Object.values(created).some((c) => (c as { id: string }).id === subId)) return null;
      const row = await ctx.core.db.orm
        .select({ e: jmapSubmissions.emailId })
        .from(jmapSubmissions)
        .where(eq(jmapSubmissions.id, numOf(subId) ?? -1));
      return row[0] ? emailObjectId(row[0].e) : null;
    };
    const update: Record<string, unknown> = {};
    for (const [ref, patch] of Object.entries((args.onSuccessUpdateEmail ?? {}) as Record<string, unknown>)) {
      const e = await emailFor(ref);
      if (e) update[e] = patch;
    }
    const destroy: string[] = [];
    for (const ref of (args.onSuccessDestroyEmail ?? []) as string[]) {
      const e = await emailFor(ref);
      if (e) destroy.push(e);
    }
    const first: Invocation = ["EmailSubmission/set", response, callId];
    if (!Object.keys(update).length && !destroy.length) return [first];
    return [first, ...(await ctx.call("Email/set", { accountId: args.accountId, ...(Object.keys(update).length && { update }), ...(destroy.length && { destroy }) }, callId))];
  };

  return { "EmailSubmission/get": get, "EmailSubmission/changes": changes, "EmailSubmission/set": set };
}
