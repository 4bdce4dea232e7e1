// Email/query, Email/queryChanges, Email/changes, Thread/get, Thread/changes
// (RFC 8621 §4.4–4.6, §3; RFC 8620 §5.5–5.6).
import { emailObjectId, parseObjectId, threadObjectId } from "../../core/store/ids.ts";
import type { EmailCondition, EmailLeaf, EmailSort } from "../../core/store/types.ts";
import { MethodError } from "./errors.ts";
import { optInt, ownAccount, parseState, stateOf, stringArray, type Method, type MethodCtx } from "./context.ts";
import { changesResponse } from "./standard.ts";

const STRING_KEYS = ["text", "from", "to", "cc", "bcc", "subject", "body"] as const;
const MAX_RESULTS = 10_000;

function date(v: unknown, name: string): number {
  const t = typeof v === "string" && /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/.test(v) ? Date.parse(v) : NaN;
  if (Number.isNaN(t)) throw new MethodError("invalidArguments", `${name} must be a UTCDate`);
  return t;
}

function keyword(v: unknown): string {
  // RFC 8621 §4.1.1: 1-255 ASCII chars, none of ( ) { ] % * " \ or space.
  if (typeof v !== "string" || !/^[\x21-\x7e]{1,255}$/.test(v) || /[(){\]%*"\\]/.test(v)) throw new MethodError("invalidArguments", "bad keyword");
  return v.toLowerCase();
}

/** A JMAP FilterCondition / FilterOperator → the store's condition. */
export function toCondition(f: unknown, depth = 0): EmailCondition {
  if (!f || typeof f !== "object" || Array.isArray(f) || depth > 20) throw new MethodError("invalidArguments", "filter must be an object");
  const o = f as Record<string, unknown>;
  if ("operator" in o) {
    if (!["AND", "OR", "NOT"].includes(o.operator as string) || !Array.isArray(o.conditions)) throw new MethodError("invalidArguments", "bad FilterOperator");
    return { operator: o.operator as "AND", conditions: o.conditions.map((c) => toCondition(c, depth + 1)) };
  }
  const c: EmailLeaf = {};
  for (const [k, v] of Object.entries(o)) {
    switch (k) {
      case "inMailbox":
        c.inMailbox = parseObjectId("m", v) ?? -1;
        break;
      case "inMailboxOtherThan":
        c.inMailboxOtherThan = stringArray(v, k).map((x) => parseObjectId("m", x) ?? -1);
        break;
      case "before":
      case "after":
        c[k] = date(v, k);
        break;
      case "minSize":
      case "maxSize":
        c[k] = optInt(v, k, 0);
        break;
      case "hasKeyword":
      case "notKeyword":
        c[k] = keyword(v);
        break;
      case "hasAttachment":
        if (typeof v !== "boolean") throw new MethodError("invalidArguments", "hasAttachment must be a boolean");
        c.hasAttachment = v;
        break;
      default:
        if ((STRING_KEYS as readonly string[]).includes(k)) {
          if (typeof v !== "string") throw new MethodError("invalidArguments", `${k} must be a string`);
          c[k as (typeof STRING_KEYS)[number]] = v;
        } else throw new MethodError("unsupportedFilter", `unsupported filter ${k}`);
    }
  }
  return c;
}

const SORTS = new Set(["receivedAt", "sentAt", "size", "from", "to", "subject"]);

export function toSort(v: unknown): EmailSort[] {
  if (v === undefined || v === null) return [{ property: "receivedAt", isAscending: false }];
  if (!Array.isArray(v)) throw new MethodError("invalidArguments", "sort must be an array");
  return v.map((s: { property?: unknown; isAscending?: unknown; collation?: unknown }) => {
    if (!s || typeof s.property !== "string") throw new MethodError("invalidArguments", "bad Comparator");
    if (!SORTS.has(s.property)) throw new MethodError("unsupportedSort", `unsupported sort ${s.property}`);
    if (s.collation !== undefined && s.collation !== "i;ascii-casemap" && s.collation !== "i;unicode-casemap") throw new MethodError("unsupportedSort", `unsupported collation`);
    return { property: s.property as EmailSort["property"], isAscending: s.isAscending !== false };
  });
}

/** The result list (collapsed to one email per thread when asked): complete, or — with
 *  `need` — at least its first `need` ids (the first page without reading every row). */
async function results(ctx: MethodCtx, accountId: number, args: Record<string, unknown>, need?: number): Promise<{ ids: string[]; complete: boolean }> {
  const filter = args.filter === undefined || args.filter === null ? null : toCondition(args.filter);
  const sort = toSort(args.sort);
  const collapse = args.collapseThreads === true;
  const collect = (rows: { emailId: number; threadId: number }[]) => {
    const out: string[] = [];
    const seen = new Set<number>();
    for (const r of rows) {
      if (collapse) {
        if (seen.has(r.threadId)) continue;
        seen.add(r.threadId);
      }
      out.push(emailObjectId(r.emailId));
    }
    return out;
  };
  if (need !== undefined) {
    // Threads are short: a few rows per wanted id usually cover the page.
    const fetch = collapse ? need * 4 + 20 : need;
    const rows = await ctx.core.store.queryEmails(accountId, filter, sort, fetch);
    const ids = collect(rows);
    if (rows.length < fetch) return { ids, complete: true };
    if (ids.length >= need) return { ids: ids.slice(0, need), complete: false };
  }
  return { ids: collect(await ctx.core.store.queryEmails(accountId, filter, sort)), complete: true };
}

const query: Method = async (args, ctx) => {
  const accountId = await ownAccount(args, ctx);
  const queryState = await stateOf(ctx, accountId);
  let position = typeof args.position === "number" && Number.isSafeInteger(args.position) ? args.position : 0;
  if (args.position !== undefined && typeof args.position !== "number") throw new MethodError("invalidArguments", "position must be an integer");
  const requested = args.limit === undefined || args.limit === null ? MAX_RESULTS : optInt(args.limit, "limit", MAX_RESULTS);
  const limit = Math.min(requested, MAX_RESULTS);
  // The first page without a total or an anchor needs only its own rows.
  const firstPage = position >= 0 && args.calculateTotal !== true && (args.anchor === undefined || args.anchor === null);
  const { ids } = await results(ctx, accountId, args, firstPage ? position + limit : undefined);
  if (args.anchor !== undefined && args.anchor !== null) {
    // RFC 8620 §5.5: the anchor's index plus anchorOffset (clamped to 0).
    const at = ids.indexOf(String(args.anchor));
    if (at < 0) throw new MethodError("anchorNotFound", "the anchor is not in the results");
    position = Math.max(0, at + (typeof args.anchorOffset === "number" ? args.anchorOffset : 0));
  } else if (position < 0) position = Math.max(0, ids.length + position);
  return {
    accountId: args.accountId,
    queryState,
    canCalculateChanges: true,
    position,
    ids: ids.slice(position, position + limit),
    ...(args.calculateTotal === true && { total: ids.length }),
    ...(limit < requested && { limit }),
    collapseThreads: args.collapseThreads === true,
  };
};

/** RFC 8620 §5.6 without stored results: every email (and, collapsed, every email of a
 *  thread) changed since the state is "removed", then "added" where it now is. The RFC
 *  allows removed ids that were never in the results. */
const queryChanges: Method = async (args, ctx) => {
  const accountId = await ownAccount(args, ctx);
  const since = parseState(args.sinceQueryState);
  if (since === null) throw new MethodError("cannotCalculateChanges", "unknown sinceQueryState");
  const store = ctx.core.store;
  const max = optInt(args.maxChanges, "maxChanges", 100_000, 1);
  const e = await store.emailChanges(accountId, since, 100_000);
  if (!e || e.hasMoreChanges) throw new MethodError("cannotCalculateChanges", "changes since that state are not known");
  const touched = new Set([...e.created, ...e.updated, ...e.destroyed].map(emailObjectId));
  if (args.collapseThreads === true) {
    const t = await store.threadChanges(accountId, since, 100_000);
    if (!t) throw new MethodError("cannotCalculateChanges", "thread changes unknown");
    const m = await store.threadEmails(accountId, [...t.created, ...t.updated]);
    for (const list of m.values()) for (const id of list) touched.add(emailObjectId(id));
  }
  const now = (await results(ctx, accountId, args)).ids;
  const index = new Map(now.map((id, i) => [id, i]));
  const removed = [...touched];
  const added = removed
    .filter((id) => index.has(id))
    .map((id) => ({ id, index: index.get(id)! }))
    .sort((a, b) => a.index - b.index);
  if (removed.length + added.length > max) throw new MethodError("tooManyChanges", "more changes than maxChanges");
  return {
    accountId: args.accountId,
    oldQueryState: String(since),
    newQueryState: await stateOf(ctx, accountId),
    removed,
    added,
    ...(args.calculateTotal === true && { total: now.length }),
  };
};

const changes: Method = async (args, ctx) => {
  const accountId = await ownAccount(args, ctx);
  return changesResponse(args, args.accountId as string, (s, m) => ctx.core.store.emailChanges(accountId, s, m), emailObjectId);
};

const threadGet: Method = async (args, ctx) => {
  const accountId = await ownAccount(args, ctx);
  const state = await stateOf(ctx, accountId);
  if (args.ids === null || args.ids === undefined) throw new MethodError("requestTooLarge", "Thread/get needs ids");
  const ids = stringArray(args.ids, "ids", ctx.cfg.maxObjectsInGet);
  const m = await ctx.core.store.threadEmails(
    accountId,
    ids.map((id) => parseObjectId("t", id)).filter((n): n is number => n !== null),
  );
  const list: Record<string, unknown>[] = [];
  const notFound: string[] = [];
  for (const id of ids) {
    const emails = m.get(parseObjectId("t", id) ?? -1);
    if (emails?.length) list.push({ id, emailIds: emails.map(emailObjectId) });
    else notFound.push(id);
  }
  return { accountId: args.accountId, state, list, notFound };
};

const threadChanges: Method = async (args, ctx) => {
  const accountId = await ownAccount(args, ctx);
  return changesResponse(args, args.accountId as string, (s, m) => ctx.core.store.threadChanges(accountId, s, m), threadObjectId);
};

export const queryMethods: Record<string, Method> = {
  "Email/query": query,
  "Email/queryChanges": queryChanges,
  "Email/changes": changes,
  "Thread/get": threadGet,
  "Thread/changes": threadChanges,
};
