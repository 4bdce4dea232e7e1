// Flags (RFC 9051 §2.3.2): system flags in canonical case, keywords as atoms.
import { ParseError, type Args } from "./parser.ts";

/** RFC 9051 §2.3.2, in the order SELECT's FLAGS lists them. */
export const SYSTEM_FLAGS = ["\\Answered", "\\Flagged", "\\Deleted", "\\Seen", "\\Draft"];
const SYSTEM = new Map(SYSTEM_FLAGS.map((f) => [f.toLowerCase(), f]));
const MAX_FLAGS = 100;

/** A flag list; \Recent may not be stored (§2.3.2); unknown \-flags are refused. */
export function parseFlags(l: Args): string[] {
  const out = new Set<string>();
  while (!l.done()) {
    const f = l.atom();
    if (f.startsWith("\\")) {
      const sys = SYSTEM.get(f.toLowerCase());
      if (!sys) throw new ParseError(`Invalid flag ${f}`);
      out.add(sys);
    } else {
      if (!/^[!#$&'+\-.0-9:;<=>?@A-Z^_`a-z|}~]{1,100}$/.test(f)) throw new ParseError(`Invalid keyword ${f}`);
      out.add(f);
    }
    if (out.size > MAX_FLAGS) throw new ParseError("Too many flags");
  }
  return [...out];
}
