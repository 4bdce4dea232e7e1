// Shapes shared by the standard methods (RFC 8620 §5.1 /get, §5.2 /changes).
import type { ObjectChanges } from "../../core/store/types.ts";
import { MethodError, type SetError } from "./errors.ts";
import { optInt, parseState, stringArray, type MethodCtx } from "./context.ts";

/** The ids and property list of a /get call (null ids: all objects). */
export function getArgs(args: Record<string, unknown>, ctx: MethodCtx, all: readonly string[]): { ids: string[] | null; properties: string[] } {
  const ids = args.ids === undefined || args.ids === null ? null : stringArray(args.ids, "ids", ctx.cfg.maxObjectsInGet);
  let properties = args.properties === undefined || args.properties === null ? [...all] : stringArray(args.properties, "properties");
  // "id" is always returned (§5.1).
  if (!properties.includes("id")) properties = ["id", ...properties];
  return { ids, properties };
}

/** Picks the requested properties; unknown ones are an invalidArguments error. */
export function pick(obj: Record<string, unknown>, properties: string[], known: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const p of properties) {
    if (!known.includes(p)) throw new MethodError("invalidArguments", `unknown property ${p}`);
    out[p] = obj[p];
  }
  return out;
}

/** A /changes response from the store's answer (null: cannotCalculateChanges). */
export async function changesResponse(
  args: Record<string, unknown>,
  accountId: string,
  load: (since: number, max: number) => Promise<ObjectChanges | null>,
  toId: (n: number) => string,
): Promise<Record<string, unknown>> {
  const since = parseState(args.sinceState);
  if (since === null) throw new MethodError("cannotCalculateChanges", "unknown sinceState");
  const max = optInt(args.maxChanges, "maxChanges", 10_000, 1);
  const c = await load(since, Math.min(max, 10_000));
  if (!c) throw new MethodError("cannotCalculateChanges", "changes since that state are not known");
  return {
    accountId,
    oldState: String(since),
    newState: String(c.newModseq),
    hasMoreChanges: c.hasMoreChanges,
    created: c.created.map(toId),
    updated: c.updated.map(toId),
    destroyed: c.destroyed.map(toId),
  };
}

/** The create / update / destroy arguments of a /set call (RFC 8620 §5.3), checked:
 *  ifInState against the current state, shapes, and maxObjectsInSet. */
export function setArgs(
  args: Record<string, unknown>,
  ctx: MethodCtx,
  oldState: string,
): { create: Record<string, Record<string, unknown>>; update: Record<string, Record<string, unknown>>; destroy: string[] } {
  if (args.ifInState !== undefined && args.ifInState !== null && args.ifInState !== oldState) throw new MethodError("stateMismatch", "ifInState does not match");
  const create = (args.create ?? {}) as Record<string, Record<string, unknown>>;
  const update = (args.update ?? {}) as Record<string, Record<string, unknown>>;
  const destroy = (args.destroy ?? []) as string[];
  if (typeof create !== "object" || Array.isArray(create) || typeof update !== "object" || Array.isArray(update) || !Array.isArray(destroy))
    throw new MethodError("invalidArguments", "create and update must be objects, destroy an array");
  if (Object.keys(create).length + Object.keys(update).length + destroy.length > ctx.cfg.maxObjectsInSet) throw new MethodError("requestTooLarge", `at most ${ctx.cfg.maxObjectsInSet} objects`);
  return { create, update, destroy };
}

/** The outcome of a /set call, collected object by object, then the response (empty maps
 *  as null, §5.3). */
export class SetOutcome {
  created: Record<string, unknown> = {};
  notCreated: Record<string, SetError> = {};
  updated: Record<string, unknown> = {};
  notUpdated: Record<string, SetError> = {};
  destroyed: string[] = [];
  notDestroyed: Record<string, SetError> = {};

  response(accountId: unknown, oldState: string, newState: string): Record<string, unknown> {
    const orNull = <T extends object>(o: T) => (Object.keys(o).length ? o : null);
    return {
      accountId,
      oldState,
      newState,
      created: orNull(this.created),
      updated: orNull(this.updated),
      destroyed: this.destroyed.length ? this.destroyed : null,
      notCreated: orNull(this.notCreated),
      notUpdated: orNull(this.notUpdated),
      notDestroyed: orNull(this.notDestroyed),
    };
  }
}
