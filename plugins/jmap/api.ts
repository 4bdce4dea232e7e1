// The API endpoint (RFC 8620 §3): parse the Request, check capabilities and limits, run
// the method calls in order with result references, and return the Response.
import type { AuthUser, Core } from "../../core/types.ts";
import type { JmapConfig } from "./config.ts";
import { CORE, type Method, type MethodCtx } from "./context.ts";
import { MethodError, problem } from "./errors.ts";
import { resolveRefs, type Invocation } from "./refs.ts";

/** Capabilities this server knows (the "using" check, §3.3). */
export const KNOWN_CAPABILITIES = new Set([CORE, "urn:ietf:params:jmap:mail", "urn:ietf:params:jmap:submission", "urn:ietf:params:jmap:vacationresponse"]);

/** Which capability a method needs in "using" (RFC 8621 §1.3). */
function capabilityOf(method: string): string {
  if (method.startsWith("Core/")) return CORE;
  if (method.startsWith("EmailSubmission/") || method.startsWith("Identity/")) return "urn:ietf:params:jmap:submission";
  if (method.startsWith("VacationResponse/")) return "urn:ietf:params:jmap:vacationresponse";
  return "urn:ietf:params:jmap:mail";
}

function isInvocation(x: unknown): x is Invocation {
  return Array.isArray(x) && x.length === 3 && typeof x[0] === "string" && !!x[1] && typeof x[1] === "object" && !Array.isArray(x[1]) && typeof x[2] === "string";
}

export interface ApiDeps {
  core: Core;
  cfg: JmapConfig;
  methods: Map<string, Method>;
  sessionState(user: AuthUser): Promise<string>;
}

export async function handleApi(deps: ApiDeps, user: AuthUser, body: string): Promise<Response> {
  if (body.length > deps.cfg.maxSizeRequest) return problem("limit", "request too large", { limit: "maxSizeRequest" });
  let req: unknown;
  try {
    req = JSON.parse(body);
  } catch {
    return problem("notJSON", "the request body is not JSON");
  }
  const r = req as { using?: unknown; methodCalls?: unknown; createdIds?: unknown };
  if (!r || typeof r !== "object" || !Array.isArray(r.using) || !r.using.every((u) => typeof u === "string") || !Array.isArray(r.methodCalls) || !r.methodCalls.every(isInvocation)) {
    return problem("notRequest", "expected { using: [String], methodCalls: [[name, args, id]] }");
  }
  if (r.createdIds !== undefined && (typeof r.createdIds !== "object" || r.createdIds === null || Array.isArray(r.createdIds))) return problem("notRequest", "createdIds must be an object");
  for (const u of r.using as string[]) if (!KNOWN_CAPABILITIES.has(u)) return problem("unknownCapability", `unknown capability ${u}`);
  if (r.methodCalls.length > deps.cfg.maxCallsInRequest) return problem("limit", `at most ${deps.cfg.maxCallsInRequest} method calls`, { limit: "maxCallsInRequest" });

  const using = new Set(r.using as string[]);
  const createdIds = new Map<string, string>(Object.entries((r.createdIds as Record<string, string>) ?? {}));
  const responses: Invocation[] = [];
  const ctx: MethodCtx = {
    core: deps.core,
    user,
    cfg: deps.cfg,
    createdIds,
    using,
    responses,
    call: (name, args, callId) => run(name, args, callId),
  };

  async function run(name: string, rawArgs: Record<string, unknown>, callId: string): Promise<Invocation[]> {
    const m = deps.methods.get(name);
    if (!m) return [["error", { type: "unknownMethod", description: `unknown method ${name}` }, callId]];
    if (!using.has(capabilityOf(name))) return [["error", { type: "unknownMethod", description: `${name} needs ${capabilityOf(name)} in "using"` }, callId]];
    try {
      const args = resolveRefs(rawArgs, responses);
      const out = await m(args, ctx, callId);
      return Array.isArray(out) ? out : [[name, out, callId]];
    } catch (e) {
      if (e instanceof MethodError) return [["error", { type: e.type, description: e.message, ...e.extra }, callId]];
      deps.core.log.error("jmap method failed", { method: name, err: (e as Error).message });
      return [["error", { type: "serverFail", description: "internal error" }, callId]];
    }
  }

  for (const [name, args, callId] of r.methodCalls as Invocation[]) {
    for (const out of await run(name, args, callId)) responses.push(out);
  }
  return Response.json({
    methodResponses: responses,
    sessionState: await deps.sessionState(user),
    ...(r.createdIds !== undefined && { createdIds: Object.fromEntries(createdIds) }),
  });
}
