// JMAP errors: request-level problems (RFC 8620 §3.6.1, RFC 7807 JSON) and method-level
// errors (§3.6.2) that become ["error", {type, description}, callId].

export type RequestErrorType = "unknownCapability" | "notJSON" | "notRequest" | "limit";

/** A request-level problem: HTTP 400 with an RFC 7807 problem document. */
export function problem(type: RequestErrorType, detail: string, extra: Record<string, unknown> = {}): Response {
  return new Response(JSON.stringify({ type: `urn:ietf:params:jmap:error:${type}`, status: 400, detail, ...extra }), {
    status: 400,
    headers: { "content-type": "application/problem+json" },
  });
}

export type MethodErrorType =
  | "serverFail"
  | "unknownMethod"
  | "invalidArguments"
  | "invalidResultReference"
  | "forbidden"
  | "accountNotFound"
  | "accountNotSupportedByMethod"
  | "accountReadOnly"
  | "requestTooLarge"
  | "stateMismatch"
  | "cannotCalculateChanges"
  | "anchorNotFound"
  | "unsupportedFilter"
  | "unsupportedSort"
  | "fromAccountNotFound"
  | "overQuota"
  | "tooManyChanges";

export class MethodError extends Error {
  constructor(
    readonly type: MethodErrorType,
    description?: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(description ?? type);
  }
}

export const invalidArgs = (d: string) => new MethodError("invalidArguments", d);

/** A SetError (RFC 8620 §5.3) for one object of a /set call. */
export interface SetError {
  type: string;
  description?: string;
  properties?: string[];
  [k: string]: unknown;
}
export const setError = (type: string, description?: string, properties?: string[]): SetError => ({ type, ...(description && { description }), ...(properties && { properties }) });
