import { describe, expect, test } from "bun:test";
import { chi2Q, LayeredModel, MemoryModel, score, tokenProb } from "./bayes.ts";

describe("Robinson / Fisher", () => {
  test("chi2Q matches the chi-square survival function", () => {
    expect(chi2Q(0, 4)).toBe(1);
    // P(X² > 9.488 | 4 d.f.) = 0.05
    expect(chi2Q(9.488, 4)).toBeCloseTo(0.05, 3);
    expect(chi2Q(1e6, 300)).toBe(0);
  });
  test("a token seen only in spam leans spam, more so the more it was seen", () => {
    expect(tokenProb({ spam: 1, ham: 0 }, 10, 10)).toBeCloseTo((0.45 * 0.5 + 1) / 1.45, 6);
    expect(tokenProb({ spam: 10, ham: 0 }, 10, 10)).toBeGreaterThan(tokenProb({ spam: 1, ham: 0 }, 10, 10));
    expect(tokenProb({ spam: 0, ham: 0 }, 10, 10)).toBe(0.5);
  });
  test("unknown tokens give 0.5; clear evidence gives near 0 or 1", () => {
    const m = new MemoryModel();
    expect(score(["x"], m).prob).toBe(0.5);
    for (let i = 0; i < 20; i++) m.learn(["viagra", "cheap", `s${i}`], "spam");
    for (let i = 0; i < 20; i++) m.learn(["meeting", "agenda", `h${i}`], "ham");
    expect(score(["viagra", "cheap"], m).prob).toBeGreaterThan(0.99);
    expect(score(["meeting", "agenda"], m).prob).toBeLessThan(0.01);
    expect(score(["viagra", "agenda"], m).prob).toBeCloseTo(0.5, 1);
  });
  test("unlearning restores the counts; the layered model adds the seed", () => {
    const m = new MemoryModel();
    m.learn(["a", "b"], "spam");
    m.learn(["a"], "ham");
    m.learn(["a", "b"], "spam", -1);
    expect(m.nspam).toBe(0);
    expect(m.get("a")).toEqual({ spam: 0, ham: 1 });
    expect(m.get("b")).toBeUndefined();
    const seed = new MemoryModel();
    seed.learn(["a"], "spam");
    const l = new LayeredModel(m, seed);
    expect(l.get("a")).toEqual({ spam: 1, ham: 1 });
    expect([l.nspam, l.nham]).toEqual([1, 1]);
  });
});

/** The textbook form (all candidates sorted by strength, the first 150 combined): the
 *  buffer-based `score` must give the same probability. */
function reference(tokens: string[], m: MemoryModel): number {
  const cands: { p: number; d: number }[] = [];
  for (const t of tokens) {
    const c = m.get(t);
    if (!c) continue;
    const p = tokenProb(c, m.nspam, m.nham);
    if (Math.abs(p - 0.5) >= 0.1) cands.push({ p, d: Math.abs(p - 0.5) });
  }
  cands.sort((a, b) => b.d - a.d);
  const clues = cands.slice(0, 150);
  if (clues.length === 0) return 0.5;
  const lnS = clues.reduce((x, c) => x + Math.log(1 - c.p), 0);
  const lnH = clues.reduce((x, c) => x + Math.log(c.p), 0);
  return (1 - chi2Q(-2 * lnS, 2 * clues.length) - (1 - chi2Q(-2 * lnH, 2 * clues.length)) + 1) / 2;
}

test("score keeps the 150 strongest tokens (ties in token order) as the textbook form does", () => {
  let seed = 42;
  const rnd = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  for (let round = 0; round < 20; round++) {
    const m = new MemoryModel();
    // Few distinct counts: many ties at the cut.
    for (let i = 0; i < 400; i++) m.tokens.set(`t${i}`, { spam: Math.floor(rnd() * 4), ham: Math.floor(rnd() * 4) });
    m.nspam = 10;
    m.nham = 12;
    const tokens = Array.from({ length: 50 + Math.floor(rnd() * 350) }, () => `t${Math.floor(rnd() * 450)}`);
    const uniq = [...new Set(tokens)];
    expect(score(uniq, m).prob).toBeCloseTo(reference(uniq, m), 12);
  }
  const m = new MemoryModel();
  m.learn(["cash", "prize", "now"], "spam");
  m.learn(["meeting", "notes"], "ham");
  expect(score(["cash", "prize", "meeting"], m, 2).clues.map((c) => c.token)).toEqual(["cash", "prize"]);
});
