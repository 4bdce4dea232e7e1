// Identity/get, /changes, /set (RFC 8621 §6): the account's own address ("i0", always
// there, not destroyable) and identities for addresses the user may send as (the same
// `smtp.sendas` check as submission on port 587: their aliases with send-as rights).
import { and, eq } from "drizzle-orm";
import { jmapIdentities } from "./schema.ts";
import type { AuthUser, Core } from "../../core/types.ts";
import { MethodError, setError, type SetError } from "./errors.ts";
import { ownAccount, resolveId, type Method, type MethodCtx } from "./context.ts";
import { getArgs, pick, SetOutcome, setArgs } from "./standard.ts";

const PROPS = ["id", "name", "email", "replyTo", "bcc", "textSignature", "htmlSignature", "mayDelete"] as const;
const idOf = (n: number) => "i" + n.toString(36);
const numOf = (id: unknown) => (typeof id === "string" && /^i[0-9a-z]{1,11}$/.test(id) ? parseInt(id.slice(1), 36) : null);

export interface Identity {
  id: string;
  name: string;
  email: string;
  replyTo: unknown;
  bcc: unknown;
  textSignature: string;
  htmlSignature: string;
  mayDelete: boolean;
}

export async function identities(core: Core, user: AuthUser): Promise<Identity[]> {
  const rows = await core.db.orm.select().from(jmapIdentities).where(eq(jmapIdentities.accountId, user.accountId));
  return [
    { id: "i0", name: "", email: user.address, replyTo: null, bcc: null, textSignature: "", htmlSignature: "", mayDelete: false },
    ...rows.map((r) => ({
      id: idOf(r.id),
      name: r.name,
      email: r.email,
      replyTo: r.replyTo ? JSON.parse(r.replyTo) : null,
      bcc: r.bcc ? JSON.parse(r.bcc) : null,
      textSignature: r.textSignature,
      htmlSignature: r.htmlSignature,
      mayDelete: true,
    })),
  ];
}

/** May this user send as `email`? (own address, or the send-as hook accepts). */
export async function maySendAs(core: Core, user: AuthUser, email: string): Promise<boolean> {
  if (email.toLowerCase() === user.address.toLowerCase()) return true;
  const at = email.lastIndexOf("@");
  if (at <= 0) return false;
  const norm = `${email.slice(0, at)}@${email.slice(at + 1).toLowerCase()}`;
  const v = await core.hooks.first("smtp.sendas", user, norm);
  return v.kind === "accept";
}

/** The identities state: the highest identity row id and the account's count (rows are
 *  added or removed; an update is rare and shows as a new state only via destroy/create). */
async function state(ctx: MethodCtx): Promise<string> {
  const r = await ctx.core.db.query({
    sql: "SELECT (SELECT coalesce(max(seq), 0) FROM sqlite_sequence WHERE name = 'jmap_identities') AS s, (SELECT count(*) FROM jmap_identities WHERE account_id = ?) AS n",
    args: [ctx.user.accountId],
  });
  return `i${Number(r.rows[0]?.s ?? 0)}-${Number(r.rows[0]?.n ?? 0)}`;
}

const get: Method = async (args, ctx) => {
  await ownAccount(args, ctx);
  const { ids, properties } = getArgs(args, ctx, PROPS);
  const all = await identities(ctx.core, ctx.user);
  const want = ids ?? all.map((i) => i.id);
  const byId = new Map(all.map((i) => [i.id, i as unknown as Record<string, unknown>]));
  return {
    accountId: args.accountId,
    state: await state(ctx),
    list: want.filter((id) => byId.has(id)).map((id) => pick(byId.get(id)!, properties, PROPS)),
    notFound: want.filter((id) => !byId.has(id)),
  };
};

const changes: Method = async (args, ctx) => {
  await ownAccount(args, ctx);
  const now = await state(ctx);
  if (args.sinceState === now) return { accountId: args.accountId, oldState: now, newState: now, hasMoreChanges: false, created: [], updated: [], destroyed: [] };
  throw new MethodError("cannotCalculateChanges", "identities changed: fetch them again");
};

const set: Method = async (args, ctx) => {
  const accountId = await ownAccount(args, ctx);
  const oldState = await state(ctx);
  const { create, update, destroy } = setArgs(args, ctx, oldState);
  const out = new SetOutcome();
  const { created, notCreated, updated, notUpdated, destroyed, notDestroyed } = out;
  const str = (v: unknown, d = "") => (typeof v === "string" ? v : d);
  const json = (v: unknown) => (Array.isArray(v) ? JSON.stringify(v) : null);
  for (const [cid, o] of Object.entries(create)) {
    const email = str(o?.email);
    if (!email || !(await maySendAs(ctx.core, ctx.user, email))) {
      notCreated[cid] = setError("forbiddenFrom", "you may not send as this address", ["email"]);
      continue;
    }
    const id = await ctx.core.db.write(async (tx) => {
      const r = await tx.orm
        .insert(jmapIdentities)
        .values({ accountId, name: str(o.name), email, replyTo: json(o.replyTo), bcc: json(o.bcc), textSignature: str(o.textSignature), htmlSignature: str(o.htmlSignature) })
        .returning({ id: jmapIdentities.id });
      return r[0]!.id;
    });
    ctx.createdIds.set(cid, idOf(id));
    created[cid] = {
      id: idOf(id),
      mayDelete: true,
      ...(o.name === undefined && { name: "" }),
      ...(o.textSignature === undefined && { textSignature: "" }),
      ...(o.htmlSignature === undefined && { htmlSignature: "" }),
    };
  }
  for (const [rawId, patch] of Object.entries(update)) {
    const n = numOf(resolveId(rawId, ctx));
    const bad = Object.keys(patch ?? {}).filter((k) => !["name", "replyTo", "bcc", "textSignature", "htmlSignature"].includes(k));
    if (!n) {
      notUpdated[rawId] = setError(rawId === "i0" ? "forbidden" : "notFound", "the primary identity is fixed");
      continue;
    }
    if (bad.length) {
      notUpdated[rawId] = setError("invalidProperties", "cannot be changed", bad);
      continue;
    }
    const values: Record<string, unknown> = {};
    if ("name" in patch) values.name = str(patch.name);
    if ("textSignature" in patch) values.textSignature = str(patch.textSignature);
    if ("htmlSignature" in patch) values.htmlSignature = str(patch.htmlSignature);
    if ("replyTo" in patch) values.replyTo = json(patch.replyTo);
    if ("bcc" in patch) values.bcc = json(patch.bcc);
    const ok = await ctx.core.db.write(
      async (tx) =>
        (
          await tx.orm
            .update(jmapIdentities)
            .set(values)
            .where(and(eq(jmapIdentities.id, n), eq(jmapIdentities.accountId, accountId)))
            .returning({ id: jmapIdentities.id })
        ).length > 0,
    );
    if (ok) updated[rawId] = null;
    else notUpdated[rawId] = setError("notFound");
  }
  for (const rawId of destroy) {
    const n = numOf(resolveId(rawId, ctx));
    const ok = n
      ? await ctx.core.db.write(
          async (tx) =>
            (
              await tx.orm
                .delete(jmapIdentities)
                .where(and(eq(jmapIdentities.id, n), eq(jmapIdentities.accountId, accountId)))
                .returning({ id: jmapIdentities.id })
            ).length > 0,
        )
      : false;
    if (ok) destroyed.push(rawId);
    else notDestroyed[rawId] = setError(rawId === "i0" ? "forbidden" : "notFound");
  }
  return out.response(args.accountId, oldState, await state(ctx));
};

export const identityMethods: Record<string, Method> = { "Identity/get": get, "Identity/changes": changes, "Identity/set": set };
