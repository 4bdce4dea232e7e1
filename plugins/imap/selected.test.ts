import { expect, test } from "bun:test";
import type { Mailbox } from "../../core/store/types.ts";
import type { UidEntry } from "./cache.ts";
import { Selected } from "./selected.ts";

const mb = { id: 1 } as Mailbox;
const listOf = (uids: number[], modseq = 5): UidEntry[] => uids.map((uid) => ({ uid, modseq, flags: [] }));
const view = (s: Selected) => ({ uids: Array.from(s.uids), modseqs: Array.from(s.modseqs) });

test("sessions of the same list share one map; the same new message keeps them sharing", () => {
  const list = listOf([3, 7, 9]);
  const a = new Selected(mb, false, list);
  const b = new Selected(mb, false, list);
  expect(a.uids.buffer).toBe(b.uids.buffer);
  expect(view(a)).toEqual({ uids: [3, 7, 9], modseqs: [5, 5, 5] });
  a.push(12, 6);
  expect(Array.from(b.uids)).toEqual([3, 7, 9]); // b has not been told yet
  b.push(12, 6);
  expect(a.uids.buffer).toBe(b.uids.buffer);
  expect(view(b)).toEqual({ uids: [3, 7, 9, 12], modseqs: [5, 5, 5, 6] });
  expect(a.indexOf(12)).toBe(3);
  expect(a.indexOf(8)).toBe(-1);
});

test("a session whose map departs copies it first: the others keep what they saw", () => {
  const list = listOf([1, 2, 3, 4]);
  const a = new Selected(mb, false, list);
  const b = new Selected(mb, false, list);
  const c = new Selected(mb, false, list);
  a.removeAt(1);
  expect(view(a).uids).toEqual([1, 3, 4]);
  expect(view(b).uids).toEqual([1, 2, 3, 4]);
  b.setModseqAt(0, 9);
  b.setModseq(4, 10);
  expect(view(b)).toEqual({ uids: [1, 2, 3, 4], modseqs: [9, 5, 5, 10] });
  expect(view(c).modseqs).toEqual([5, 5, 5, 5]);
  // c appends 5, then a different message arrives for a session behind it
  c.push(5, 6);
  const d = new Selected(mb, false, list);
  d.push(6, 7);
  expect(view(c).uids).toEqual([1, 2, 3, 4, 5]);
  expect(view(d)).toEqual({ uids: [1, 2, 3, 4, 6], modseqs: [5, 5, 5, 5, 7] });
  // the own copy grows past its room
  for (let u = 10; u < 100; u++) a.push(u, u);
  expect(a.uids.length).toBe(93);
  expect(a.uids[92]).toBe(99);
  expect(view(b).uids).toEqual([1, 2, 3, 4]);
});

test("after a full sync a session in step with the cache's list shares its map again", () => {
  const list = listOf([1, 2, 3]);
  const a = new Selected(mb, false, list);
  a.removeAt(2);
  const next = listOf([1, 2]);
  const b = new Selected(mb, false, next);
  expect(a.uids.buffer).not.toBe(b.uids.buffer);
  a.adopt(next);
  expect(a.uids.buffer).toBe(b.uids.buffer);
  // not in step: stays as it is
  const c = new Selected(mb, false, list);
  c.adopt(next);
  expect(view(c).uids).toEqual([1, 2, 3]);
});
