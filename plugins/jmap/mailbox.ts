// Mailbox/get, /changes, /query, /queryChanges, /set (RFC 8621 §2). A JMAP mailbox is a
// store mailbox: name = the last hierarchy level, parentId from the full name, role from
// SPECIAL-USE (RFC 6154; RFC 8457 names match the IANA JMAP role registry).
import { isStoreError } from "../../core/store/errors.ts";
import { mailboxObjectId, parseObjectId } from "../../core/store/ids.ts";
import type { Mailbox } from "../../core/store/types.ts";
import { MethodError, setError, type SetError } from "./errors.ts";
import { ownAccount, parseState, stateOf, type Method, type MethodCtx } from "./context.ts";
import { changesResponse, getArgs, pick, SetOutcome, setArgs } from "./standard.ts";

const DELIM = "/";
export const MAILBOX_PROPS = ["id", "name", "parentId", "role", "sortOrder", "totalEmails", "unreadEmails", "totalThreads", "unreadThreads", "myRights", "isSubscribed"] as const;
const ROLE_OF: Record<string, string> = { "\\Sent": "sent", "\\Drafts": "drafts", "\\Trash": "trash", "\\Junk": "junk", "\\Archive": "archive", "\\All": "all", "\\Flagged": "flagged" };
const USE_OF = Object.fromEntries(Object.entries(ROLE_OF).map(([k, v]) => [v, k]));
const RIGHTS = { mayReadItems: true, mayAddItems: true, mayRemoveItems: true, maySetSeen: true, maySetKeywords: true, mayCreateChild: true, mayRename: true, mayDelete: true, maySubmit: true };

export const roleOf = (mb: Mailbox): string | null => (mb.name === "INBOX" ? "inbox" : mb.specialUse ? (ROLE_OF[mb.specialUse] ?? null) : null);

function toJmap(mb: Mailbox, byName: Map<string, Mailbox>, threads: Map<number, { total: number; unread: number }>): Record<string, unknown> {
  const cut = mb.name.lastIndexOf(DELIM);
  const parent = cut < 0 ? null : byName.get(mb.name.slice(0, cut));
  const role = roleOf(mb);
  return {
    id: mailboxObjectId(mb.id),
    name: cut < 0 ? mb.name : mb.name.slice(cut + 1),
    parentId: parent ? mailboxObjectId(parent.id) : null,
    role,
    sortOrder: role === "inbox" ? 0 : role ? 1 : 10,
    totalEmails: mb.messages,
    unreadEmails: mb.unseen,
    totalThreads: threads.get(mb.id)?.total ?? 0,
    unreadThreads: threads.get(mb.id)?.unread ?? 0,
    myRights: { ...RIGHTS, mayDelete: role !== "inbox", mayRename: role !== "inbox" },
    isSubscribed: mb.subscribed,
  };
}

async function all(ctx: MethodCtx, accountId: number) {
  const list = await ctx.core.store.listMailboxes(accountId);
  const byName = new Map(list.map((m) => [m.name, m]));
  const threads = await ctx.core.store.mailboxThreadCounts(accountId);
  return { list, byName, json: list.map((m) => toJmap(m, byName, threads)) };
}

const get: Method = async (args, ctx) => {
  const accountId = await ownAccount(args, ctx);
  const { ids, properties } = getArgs(args, ctx, MAILBOX_PROPS);
  const state = await stateOf(ctx, accountId);
  const { json } = await all(ctx, accountId);
  const byId = new Map(json.map((m) => [m.id as string, m]));
  const want = ids ?? [...byId.keys()];
  return {
    accountId: args.accountId,
    state,
    list: want.filter((id) => byId.has(id)).map((id) => pick(byId.get(id)!, properties, MAILBOX_PROPS)),
    notFound: ids ? ids.filter((id) => !byId.has(id)) : [],
  };
};

const changes: Method = async (args, ctx) => {
  const accountId = await ownAccount(args, ctx);
  const r = await changesResponse(args, args.accountId as string, (s, m) => ctx.core.store.mailboxChanges(accountId, s, m), mailboxObjectId);
  // Only counts changed for mailboxes not created or renamed: RFC 8621 §2.2.
  return { ...r, updatedProperties: null };
};

type MbFilter = { parentId?: string | null; name?: string; role?: string | null; hasAnyRole?: boolean; isSubscribed?: boolean };

function matches(m: Record<string, unknown>, f: MbFilter): boolean {
  if ("parentId" in f && m.parentId !== f.parentId) return false;
  if (f.name !== undefined && !String(m.name).toLowerCase().includes(f.name.toLowerCase())) return false;
  if ("role" in f && m.role !== f.role) return false;
  if (f.hasAnyRole !== undefined && (m.role !== null) !== f.hasAnyRole) return false;
  if (f.isSubscribed !== undefined && m.isSubscribed !== f.isSubscribed) return false;
  return true;
}

function filterOk(f: unknown): boolean {
  if (f === null || f === undefined) return true;
  if (typeof f !== "object" || Array.isArray(f)) return false;
  const o = f as Record<string, unknown>;
  if ("operator" in o) return ["AND", "OR", "NOT"].includes(o.operator as string) && Array.isArray(o.conditions) && o.conditions.every(filterOk);
  return Object.keys(o).every((k) => ["parentId", "name", "role", "hasAnyRole", "isSubscribed"].includes(k));
}

function evalFilter(m: Record<string, unknown>, f: unknown): boolean {
  if (!f) return true;
  const o = f as { operator?: string; conditions?: unknown[] };
  if (o.operator) {
    const r = o.conditions!.map((c) => evalFilter(m, c));
    return o.operator === "AND" ? r.every(Boolean) : o.operator === "OR" ? r.some(Boolean) : !r.some(Boolean);
  }
  return matches(m, f as MbFilter);
}

const query: Method = async (args, ctx) => {
  const accountId = await ownAccount(args, ctx);
  if (!filterOk(args.filter)) throw new MethodError("unsupportedFilter", "unknown Mailbox filter");
  const sort = (args.sort ?? []) as { property?: string; isAscending?: boolean }[];
  if (!Array.isArray(sort) || sort.some((s) => !["name", "sortOrder"].includes(s?.property ?? ""))) throw new MethodError("unsupportedSort", "Mailbox sorts: name, sortOrder");
  const { json } = await all(ctx, accountId);
  let list = json.filter((m) => evalFilter(m, args.filter));
  list = list.sort((a, b) => {
    for (const s of sort) {
      const k = s.property as "name" | "sortOrder";
      const d = k === "name" ? String(a.name).localeCompare(String(b.name)) : Number(a.sortOrder) - Number(b.sortOrder);
      if (d) return s.isAscending === false ? -d : d;
    }
    return 0;
  });
  const position = typeof args.position === "number" ? args.position : 0;
  const ids = list.map((m) => m.id as string);
  const start = position < 0 ? Math.max(0, ids.length + position) : position;
  const limit = typeof args.limit === "number" ? args.limit : ids.length;
  return {
    accountId: args.accountId,
    queryState: await stateOf(ctx, accountId),
    canCalculateChanges: false,
    position: start,
    ids: ids.slice(start, start + limit),
    ...(args.calculateTotal === true && { total: ids.length }),
  };
};

/** Full store name for a JMAP name under a parent. */
function fullName(name: unknown, parentId: unknown, list: Mailbox[], ctx: MethodCtx): string | SetError {
  if (typeof name !== "string" || !name || name.includes(DELIM) || name.length > 255) return setError("invalidProperties", "name: 1-255 characters, no /", ["name"]);
  if (parentId === null || parentId === undefined) return name;
  const pid = parseObjectId("m", typeof parentId === "string" && parentId.startsWith("#") ? ctx.createdIds.get(parentId.slice(1)) : parentId);
  const parent = list.find((m) => m.id === pid);
  if (!parent) return setError("invalidProperties", "no such parent", ["parentId"]);
  return parent.name + DELIM + name;
}

const set: Method = async (args, ctx) => {
  const accountId = await ownAccount(args, ctx);
  const store = ctx.core.store;
  const oldState = await stateOf(ctx, accountId);
  const { create, update, destroy } = setArgs(args, ctx, oldState);
  const out = new SetOutcome();
  const { created, notCreated, notUpdated, notDestroyed } = out;
  const fail = (e: unknown): SetError => {
    if (isStoreError(e, "ALREADYEXISTS")) return setError("invalidProperties", e.message, ["name"]);
    if (isStoreError(e, "HASCHILDREN")) return setError("mailboxHasChild", e.message);
    if (isStoreError(e)) return setError("invalidProperties", e.message);
    throw e;
  };
  for (const [cid, obj] of Object.entries(create)) {
    const bad = Object.keys(obj).filter((k) => !["name", "parentId", "role", "sortOrder", "isSubscribed"].includes(k));
    if (bad.length) {
      notCreated[cid] = setError("invalidProperties", "not settable", bad);
      continue;
    }
    const list = await store.listMailboxes(accountId);
    const name = fullName(obj.name, obj.parentId, list, ctx);
    if (typeof name !== "string") {
      notCreated[cid] = name;
      continue;
    }
    const role = obj.role ?? null;
    if (role !== null && (typeof role !== "string" || !USE_OF[role])) {
      notCreated[cid] = setError("invalidProperties", "unknown role", ["role"]);
      continue;
    }
    try {
      const mb = await store.createMailbox(accountId, name, role ? USE_OF[role] : null);
      if (obj.isSubscribed === false) await store.setSubscribed(accountId, mb.name, false);
      const id = mailboxObjectId(mb.id);
      ctx.createdIds.set(cid, id);
      created[cid] = {
        id,
        totalEmails: 0,
        unreadEmails: 0,
        totalThreads: 0,
        unreadThreads: 0,
        myRights: RIGHTS,
        sortOrder: role ? 1 : 10,
        ...(obj.isSubscribed === undefined && { isSubscribed: true }),
        ...(obj.role === undefined && { role: null }),
      };
    } catch (e) {
      notCreated[cid] = fail(e);
    }
  }
  for (const [rawId, patch] of Object.entries(update)) {
    const id = String(rawId.startsWith("#") ? (ctx.createdIds.get(rawId.slice(1)) ?? rawId) : rawId);
    const list = await store.listMailboxes(accountId);
    const mb = list.find((m) => m.id === parseObjectId("m", id));
    if (!mb) {
      notUpdated[rawId] = setError("notFound");
      continue;
    }
    try {
      const cut = mb.name.lastIndexOf(DELIM);
      const cur = { name: cut < 0 ? mb.name : mb.name.slice(cut + 1), parentId: cut < 0 ? null : mailboxObjectId(list.find((m) => m.name === mb.name.slice(0, cut))?.id ?? 0) };
      const bad = Object.keys(patch).filter((k) => !["name", "parentId", "isSubscribed", "sortOrder"].includes(k) && !(k === "role" && patch.role === roleOf(mb)));
      if (bad.length) {
        notUpdated[rawId] = setError("invalidProperties", "not settable", bad);
        continue;
      }
      if ("name" in patch || "parentId" in patch) {
        const to = fullName(patch.name ?? cur.name, "parentId" in patch ? patch.parentId : cur.parentId, list, ctx);
        if (typeof to !== "string") {
          notUpdated[rawId] = to;
          continue;
        }
        if (to !== mb.name) {
          if (mb.name === "INBOX") {
            notUpdated[rawId] = setError("forbidden", "the inbox cannot be renamed");
            continue;
          }
          await store.renameMailbox(accountId, mb.name, to);
        }
      }
      if (typeof patch.isSubscribed === "boolean") {
        const now = (await store.getMailboxById(mb.id))!;
        await store.setSubscribed(accountId, now.name, patch.isSubscribed);
      }
      out.updated[rawId] = null;
    } catch (e) {
      notUpdated[rawId] = fail(e);
    }
  }
  for (const rawId of destroy) {
    const id = rawId.startsWith("#") ? (ctx.createdIds.get(rawId.slice(1)) ?? rawId) : rawId;
    const mb = (await store.listMailboxes(accountId)).find((m) => m.id === parseObjectId("m", id));
    if (!mb) notDestroyed[rawId] = setError("notFound");
    else if (mb.name === "INBOX") notDestroyed[rawId] = setError("forbidden", "the inbox cannot be destroyed");
    else if (mb.messages > 0 && args.onDestroyRemoveEmails !== true) notDestroyed[rawId] = setError("mailboxHasEmail", "the mailbox has emails");
    else {
      try {
        await store.deleteMailbox(accountId, mb.name);
        out.destroyed.push(rawId);
      } catch (e) {
        notDestroyed[rawId] = fail(e);
      }
    }
  }
  return out.response(args.accountId, oldState, await stateOf(ctx, accountId));
};

const queryChanges: Method = async () => {
  throw new MethodError("cannotCalculateChanges", "Mailbox/query results are not tracked; query again");
};

export const mailboxMethods: Record<string, Method> = {
  "Mailbox/get": get,
  "Mailbox/changes": changes,
  "Mailbox/query": query,
  "Mailbox/queryChanges": queryChanges,
  "Mailbox/set": set,
};
