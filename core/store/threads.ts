// Thread linking at delivery (RFC 5256 §3 REFERENCES, step 1; RFC 8621 §3): a message joins
// the thread of the first stored message it names in References (else In-Reply-To).
import { getField, parseFields, splitHeader } from "../mime/index.ts";

const MSG_ID = /<[^<>\s]+>/g;

/** The Message-IDs `raw` refers to, oldest first: References, else In-Reply-To's first. */
export function threadRefs(raw: Uint8Array): string[] {
  const { headerEnd } = splitHeader(raw, 0, raw.length);
  const fields = parseFields(raw, 0, headerEnd);
  const refs = [...(getField(fields, "references") ?? "").matchAll(MSG_ID)].map((m) => m[0]);
  if (refs.length) return refs;
  const irt = [...(getField(fields, "in-reply-to") ?? "").matchAll(MSG_ID)].map((m) => m[0]);
  return irt.slice(0, 1);
}
