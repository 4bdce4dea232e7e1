// RFC 8601 §5: Authentication-Results fields that claim to come from us (our authserv-id)
// but arrived with the message are forgeries; they must be removed before delivery.
import { fieldValue, type RawField } from "./header.ts";

/** The authserv-id of an Authentication-Results value (§2.2: first token, CFWS allowed). */
export function authservId(value: string): string {
  let v = value.trimStart();
  // Leading comments (CFWS).
  while (v.startsWith("(")) {
    let depth = 0;
    let i = 0;
    for (; i < v.length; i++) {
      if (v[i] === "\\") i++;
      else if (v[i] === "(") depth++;
      else if (v[i] === ")" && --depth === 0) break;
    }
    v = v.slice(i + 1).trimStart();
  }
  if (v.startsWith('"')) {
    const m = /^"((?:[^"\\]|\\.)*)"/.exec(v);
    return m ? m[1]!.replace(/\\(.)/g, "$1") : "";
  }
  return /^[^\s;()]*/.exec(v)![0];
}

/** Fields named Authentication-Results whose authserv-id is ours (case-insensitive). */
export function forgedResults(fields: RawField[], ourId: string): RawField[] {
  const id = ourId.toLowerCase().replace(/\.$/, "");
  return fields.filter((f) => f.name === "authentication-results" && authservId(fieldValue(f)).toLowerCase().replace(/\.$/, "") === id);
}
