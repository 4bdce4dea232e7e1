// What every JMAP method sees: the core, the authenticated user, the request's created ids
// (RFC 8620 §3.3 "#creationId" references) and the limits from the capabilities object.
import type { AuthUser, Core } from "../../core/types.ts";
import type { JmapConfig } from "./config.ts";
import { MethodError } from "./errors.ts";
import type { Invocation } from "./refs.ts";

export interface MethodCtx {
  core: Core;
  user: AuthUser;
  cfg: JmapConfig;
  /** creation id → server id, shared by all calls of one request (and returned). */
  createdIds: Map<string, string>;
  using: Set<string>;
  /** Responses so far (for methods that add implicit calls, e.g. onSuccessUpdateEmail). */
  responses: Invocation[];
  /** Hook for a follow-up implicit call (RFC 8621 §7.5 onSuccessUpdateEmail). */
  call(name: string, args: Record<string, unknown>, callId: string): Promise<Invocation[]>;
}

export type MethodResult = Record<string, unknown> | Invocation[];
export type Method = (args: Record<string, unknown>, ctx: MethodCtx, callId: string) => Promise<MethodResult>;

export const CORE = "urn:ietf:params:jmap:core";
export const MAIL = "urn:ietf:params:jmap:mail";
export const SUBMISSION = "urn:ietf:params:jmap:submission";
export const VACATION = "urn:ietf:params:jmap:vacationresponse";

export const accountIdOf = (n: number) => "a" + n.toString(36);

/** args.accountId must be the caller's own account: another user's is forbidden (never
 *  their data), an unknown one accountNotFound (RFC 8620 §3.6.2). */
export async function ownAccount(args: Record<string, unknown>, ctx: MethodCtx, key = "accountId"): Promise<number> {
  const id = args[key];
  if (typeof id !== "string") throw new MethodError("invalidArguments", `${key} must be a string`);
  if (id === accountIdOf(ctx.user.accountId)) return ctx.user.accountId;
  const n = /^a[0-9a-z]{1,11}$/.test(id) ? parseInt(id.slice(1), 36) : NaN;
  if (Number.isSafeInteger(n) && (await ctx.core.store.getAccountById(n))) throw new MethodError(key === "fromAccountId" ? "fromAccountNotFound" : "forbidden", "not your account");
  throw new MethodError(key === "fromAccountId" ? "fromAccountNotFound" : "accountNotFound", `no account ${id}`);
}

/** The account state string (RFC 8620 §1.6): its modseq, one counter for every type. */
export async function stateOf(ctx: MethodCtx, accountId: number): Promise<string> {
  return String(await ctx.core.store.accountModseq(accountId));
}

/** Parses a state string given by the client; null if it is not one of ours. */
export function parseState(s: unknown): number | null {
  return typeof s === "string" && /^[0-9]{1,15}$/.test(s) ? Number(s) : null;
}

/** Resolves "#creationId" ids (RFC 8620 §5.3) to the ids created earlier in the request. */
export function resolveId(id: unknown, ctx: MethodCtx): unknown {
  if (typeof id === "string" && id.startsWith("#")) return ctx.createdIds.get(id.slice(1)) ?? id;
  return id;
}

export function stringArray(v: unknown, name: string, max = Infinity): string[] {
  if (!Array.isArray(v) || !v.every((x) => typeof x === "string")) throw new MethodError("invalidArguments", `${name} must be an array of strings`);
  if (v.length > max) throw new MethodError("requestTooLarge", `${name}: at most ${max}`);
  return v as string[];
}

export function optInt(v: unknown, name: string, dflt: number, min = 0): number {
  if (v === undefined || v === null) return dflt;
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < min) throw new MethodError("invalidArguments", `${name} must be an integer >= ${min}`);
  return v;
}
