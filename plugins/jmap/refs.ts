// Result references (RFC 8620 §3.7): an argument "#name" = { resultOf, name, path } takes
// its value from an earlier response in the same request, through a JSON Pointer where
// "*" maps over arrays (and flattens nested arrays).
import { MethodError } from "./errors.ts";

export type Invocation = [name: string, args: Record<string, unknown>, callId: string];

function pointer(value: unknown, path: string): unknown {
  if (path === "") return value;
  if (!path.startsWith("/")) throw new Error("bad path");
  const [head, ...rest] = path.slice(1).split("/");
  const token = head!.replace(/~1/g, "/").replace(/~0/g, "~");
  const tail = rest.length ? "/" + rest.join("/") : "";
  if (token === "*") {
    if (!Array.isArray(value)) throw new Error("* on a non-array");
    return value.flatMap((v) => {
      const r = pointer(v, tail);
      return Array.isArray(r) ? r : [r];
    });
  }
  if (Array.isArray(value)) {
    if (!/^(0|[1-9][0-9]*)$/.test(token) || Number(token) >= value.length) throw new Error("no such index");
    return pointer(value[Number(token)], tail);
  }
  if (value && typeof value === "object" && Object.hasOwn(value, token)) return pointer((value as Record<string, unknown>)[token], tail);
  throw new Error("no such member");
}

/** Arguments with every "#x" replaced by its resolved value. */
export function resolveRefs(args: Record<string, unknown>, responses: Invocation[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(args)) {
    if (!k.startsWith("#")) {
      out[k] = v;
      continue;
    }
    const key = k.slice(1);
    if (Object.hasOwn(args, key)) throw new MethodError("invalidArguments", `both ${key} and #${key} given`);
    const ref = v as { resultOf?: unknown; name?: unknown; path?: unknown } | null;
    if (!ref || typeof ref !== "object" || typeof ref.resultOf !== "string" || typeof ref.name !== "string" || typeof ref.path !== "string") {
      throw new MethodError("invalidResultReference", `#${key} is not a ResultReference`);
    }
    const src = responses.find((r) => r[2] === ref.resultOf && r[0] === ref.name);
    if (!src) throw new MethodError("invalidResultReference", `no ${ref.name} response with id ${ref.resultOf}`);
    try {
      out[key] = pointer(src[1], ref.path);
    } catch (e) {
      throw new MethodError("invalidResultReference", `path ${ref.path}: ${(e as Error).message}`);
    }
  }
  return out;
}
