// Sequence sets (RFC 9051 §9 sequence-set): "1:3,5,7:*" for sequence numbers and UIDs.
import { ParseError } from "./parser.ts";
import type { Session } from "./session.ts";

/** Inclusive ranges; Infinity stands for "*" until resolved. */
export type SeqSet = [lo: number, hi: number][];

const MAX_RANGES = 10_000;
const MAX_NUMBER = 4_294_967_295;

export function parseSeqSet(s: string): SeqSet {
  if (!/^[0-9:*,]+$/.test(s)) throw new ParseError("Bad sequence set");
  const parts = s.split(",");
  if (parts.length > MAX_RANGES) throw new ParseError("Sequence set too long");
  const out: SeqSet = [];
  for (const p of parts) {
    const m = /^(\d+|\*)(?::(\d+|\*))?$/.exec(p);
    if (!m) throw new ParseError("Bad sequence set");
    const a = m[1] === "*" ? Infinity : Number(m[1]);
    const b = m[2] === undefined ? a : m[2] === "*" ? Infinity : Number(m[2]);
    // RFC 9051 §9: nz-number, a non-zero unsigned 32-bit number (0 < n < 4,294,967,296).
    if (a === 0 || b === 0 || (a !== Infinity && a > MAX_NUMBER) || (b !== Infinity && b > MAX_NUMBER)) throw new ParseError("Bad sequence number");
    out.push(a <= b ? [a, b] : [b, a]);
  }
  return out;
}

function lowerBound(arr: ArrayLike<number>, x: number): number {
  let lo = 0;
  let hi = arr.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (arr[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Indexes (0-based, ascending, unique) into sorted `uids` that the UID set selects.
 *  RFC 9051 §6.4.9: "*" is the largest UID in use; n:* always includes it. */
export function resolveUidSet(set: SeqSet, uids: ArrayLike<number>): number[] {
  if (uids.length === 0) return [];
  const max = uids[uids.length - 1]!;
  if (set.length === 1) {
    // One range (the usual case): already ascending and distinct.
    let [a, b] = set[0]!.map((x) => (x === Infinity ? max : x)) as [number, number];
    if (a > b) [a, b] = [b, a];
    const out: number[] = [];
    for (let i = lowerBound(uids, a); i < uids.length && uids[i]! <= b; i++) out.push(i);
    return out;
  }
  const picked = new Set<number>();
  for (const [a0, b0] of set) {
    let a = a0 === Infinity ? max : a0;
    let b = b0 === Infinity ? max : b0;
    if (a > b) [a, b] = [b, a];
    for (let i = lowerBound(uids, a); i < uids.length && uids[i]! <= b; i++) picked.add(i);
  }
  return [...picked].sort((x, y) => x - y);
}

/** Indexes (0-based) for a sequence-number set over `count` messages; throws when a
 *  number is beyond the mailbox (RFC 9051 §9 seq-number: must be valid). */
export function resolveSeqSet(set: SeqSet, count: number): number[] {
  const picked = new Set<number>();
  for (const [a0, b0] of set) {
    let a = a0 === Infinity ? count : a0;
    let b = b0 === Infinity ? count : b0;
    if (a > b) [a, b] = [b, a];
    if (count === 0 && (a0 === Infinity || b0 === Infinity)) continue; // "1:*" on an empty mailbox
    if (count === 0 || b > count) throw new ParseError("Invalid message sequence number");
    if (b - a > 10_000_000) throw new ParseError("Sequence range too large");
    if (set.length === 1) return Array.from({ length: b - a + 1 }, (_, i) => a - 1 + i);
    for (let i = a; i <= b; i++) picked.add(i - 1);
  }
  return [...picked].sort((x, y) => x - y);
}

/** Compact form of ascending numbers: [1,2,3,5] → "1:3,5". */
export function formatSet(nums: readonly number[]): string {
  const sorted = [...nums].sort((a, b) => a - b);
  const out: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1]! <= sorted[j]! + 1) j++;
    out.push(sorted[i] === sorted[j] ? String(sorted[i]) : `${sorted[i]}:${sorted[j]}`);
    i = j + 1;
  }
  return out.join(",");
}

/** Keeps the input order (COPYUID pairs must line up): [5,6,7,9] → "5:7,9". */
export function formatSetInOrder(nums: readonly number[]): string {
  const out: string[] = [];
  for (let i = 0; i < nums.length; ) {
    let j = i;
    while (j + 1 < nums.length && nums[j + 1] === nums[j]! + 1) j++;
    out.push(i === j ? String(nums[i]) : `${nums[i]}:${nums[j]}`);
    i = j + 1;
  }
  return out.join(",");
}

/** Membership test for a resolved set with "*" = max. */
export function inSet(set: SeqSet, n: number, max: number): boolean {
  for (const [a0, b0] of set) {
    let a = a0 === Infinity ? max : a0;
    let b = b0 === Infinity ? max : b0;
    if (a > b) [a, b] = [b, a];
    if (n >= a && n <= b) return true;
  }
  return false;
}

/** Resolves a sequence set (or "$", RFC 5182 SEARCHRES) to indexes into the selected
 *  mailbox's map; throws on bad input. */
export function resolveSet(s: Pick<Session, "selected" | "searchRes">, set: string, uid: boolean): number[] {
  const sel = s.selected!;
  if (set === "$") {
    const saved = s.searchRes ?? [];
    return saved
      .map((u) => sel.indexOf(u))
      .filter((i) => i >= 0)
      .sort((a, b) => a - b);
  }
  const parsed = parseSeqSet(set);
  return uid ? resolveUidSet(parsed, sel.uids) : resolveSeqSet(parsed, sel.uids.length);
}
