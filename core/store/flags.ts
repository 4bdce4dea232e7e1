// IMAP flags (RFC 9051 §2.3.2) as stored: system flags in a bitmask, keywords as JSON.
export const SEEN = 1;
export const ANSWERED = 2;
export const FLAGGED = 4;
export const DELETED = 8;
export const DRAFT = 16;

const SYSTEM: [string, number][] = [
  ["\\Answered", ANSWERED],
  ["\\Deleted", DELETED],
  ["\\Draft", DRAFT],
  ["\\Flagged", FLAGGED],
  ["\\Seen", SEEN],
];
const BY_LOWER = new Map(SYSTEM.map(([n, b]) => [n.toLowerCase(), b]));
const MAX_KEYWORDS = 100;

export interface FlagSet {
  mask: number;
  keywords: string[];
}

/** Splits flags into the bitmask and keywords; \Recent and unknown system flags are dropped. */
export function parseFlags(flags: readonly string[]): FlagSet {
  let mask = 0;
  const keywords: string[] = [];
  for (const f of flags) {
    if (f.startsWith("\\")) {
      mask |= BY_LOWER.get(f.toLowerCase()) ?? 0;
    } else if (f && !keywords.some((k) => k.toLowerCase() === f.toLowerCase()) && keywords.length < MAX_KEYWORDS) {
      keywords.push(f);
    }
  }
  return { mask, keywords };
}

export function formatFlags(mask: number, keywords: readonly string[]): string[] {
  const out: string[] = [];
  for (const [n, b] of SYSTEM) if (mask & b) out.push(n);
  return out.concat([...keywords].sort());
}

export function keywordsFromJson(s: string): string[] {
  if (s === "[]" || !s) return [];
  try {
    const v = JSON.parse(s) as unknown;
    return Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : [];
  } catch {
    return [];
  }
}

/** Applies a STORE operation (RFC 9051 §6.4.6); returns the new set. */
export function applyFlags(cur: FlagSet, op: "add" | "remove" | "set", change: FlagSet): FlagSet {
  if (op === "set") return { mask: change.mask, keywords: [...change.keywords] };
  if (op === "add") {
    const kw = [...cur.keywords];
    for (const k of change.keywords) if (!kw.some((x) => x.toLowerCase() === k.toLowerCase()) && kw.length < MAX_KEYWORDS) kw.push(k);
    return { mask: cur.mask | change.mask, keywords: kw };
  }
  const drop = new Set(change.keywords.map((k) => k.toLowerCase()));
  return { mask: cur.mask & ~change.mask, keywords: cur.keywords.filter((k) => !drop.has(k.toLowerCase())) };
}

export function sameFlags(a: FlagSet, b: FlagSet): boolean {
  if (a.mask !== b.mask || a.keywords.length !== b.keywords.length) return false;
  const s = new Set(a.keywords);
  return b.keywords.every((k) => s.has(k));
}
