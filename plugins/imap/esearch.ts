// Search results as ESEARCH responses (RFC 4731), shared by SEARCH and SORT (ESORT, RFC 5267
// §3): the RETURN options MIN MAX COUNT ALL SAVE, PARTIAL (RFC 9394) and UPDATE / CONTEXT
// (CONTEXT=SEARCH / CONTEXT=SORT, RFC 5267 §4).
import { formatSet, formatSetInOrder } from "./format.ts";
import { ParseError, type Args } from "./parser.ts";

export interface ReturnOpts {
  min: boolean;
  max: boolean;
  count: boolean;
  all: boolean;
  save: boolean;
  update: boolean;
  /** 1-based positions, inclusive; negative: from the end (-1 is the last). */
  partial: [number, number] | null;
}

/** RETURN () */
export function returnAll(): ReturnOpts {
  return { min: false, max: false, count: false, all: true, save: false, update: false, partial: null };
}

/** "RETURN (…)" after SEARCH or SORT; null when absent. An empty list means ALL. */
export function parseReturn(a: Args): ReturnOpts | null {
  if (!a.accept("RETURN")) return null;
  const r: ReturnOpts = { ...returnAll(), all: false };
  const l = a.list();
  let any = false;
  while (!l.done()) {
    const o = l.atom().toUpperCase();
    any = true;
    switch (o) {
      case "MIN":
        r.min = true;
        break;
      case "MAX":
        r.max = true;
        break;
      case "COUNT":
        r.count = true;
        break;
      case "ALL":
        r.all = true;
        break;
      case "SAVE":
        r.save = true;
        break;
      case "UPDATE":
        r.update = true;
        break;
      case "CONTEXT":
        break; // a hint that more requests follow (RFC 5267 §4.2): nothing to do
      case "PARTIAL":
        r.partial = parsePartialRange(l.atom());
        break;
      default:
        throw new ParseError(`Unknown RETURN option ${o}`);
    }
  }
  // An empty list, or only UPDATE / CONTEXT, asks for ALL (RFC 4731 §3.1).
  if (!any || !(r.min || r.max || r.count || r.all || r.save || r.partial)) r.all = true;
  if (r.partial && r.all) throw new ParseError("PARTIAL and ALL together");
  return r;
}

/** RFC 9394 §3: "first:last", both positive or both negative, never 0. */
function parsePartialRange(s: string): [number, number] {
  const m = /^(-?[1-9]\d{0,9}):(-?[1-9]\d{0,9})$/.exec(s);
  if (!m) throw new ParseError("Bad PARTIAL range");
  let a = Number(m[1]);
  let b = Number(m[2]);
  if (a < 0 !== b < 0) throw new ParseError("Bad PARTIAL range");
  if (Math.abs(a) > Math.abs(b)) [a, b] = [b, a];
  return [a, b];
}

/** The "PARTIAL (range set)" data of these results (in result order). */
export function partialItem(nums: readonly number[], range: [number, number], sorted: boolean): string {
  const [a, b] = range;
  // Negative: counted from the end, -1 the last; either way the set is in result order.
  const slice = a > 0 ? nums.slice(a - 1, b) : nums.slice(Math.max(0, nums.length + b), Math.max(0, nums.length + a + 1));
  const set = slice.length ? (sorted ? formatSetInOrder(slice) : formatSet(slice)) : "NIL";
  return `PARTIAL (${a}:${b} ${set})`;
}

/** The ESEARCH line; `nums` in result order (ascending for SEARCH, sort order for SORT). */
export function esearchLine(tag: string, uid: boolean, nums: readonly number[], r: ReturnOpts, sorted: boolean, modseq: number | null): string {
  let line = `* ESEARCH (TAG "${tag}")${uid ? " UID" : ""}`;
  // ESORT (RFC 5267 §3.2): MIN and MAX are the first and last in sort order.
  if (nums.length && r.min) line += ` MIN ${sorted ? nums[0] : Math.min(...nums)}`;
  if (nums.length && r.max) line += ` MAX ${sorted ? nums[nums.length - 1] : Math.max(...nums)}`;
  if (r.count) line += ` COUNT ${nums.length}`;
  if (nums.length && r.all) line += ` ALL ${sorted ? formatSetInOrder(nums) : formatSet(nums)}`;
  if (r.partial) line += ` ${partialItem(nums, r.partial, sorted)}`;
  if (modseq !== null && nums.length) line += ` MODSEQ ${modseq}`;
  return line;
}
