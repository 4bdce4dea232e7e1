// The Bayesian classifier: Gary Robinson's per-token probability with a prior, combined
// with Fisher's chi-square method (as in SpamBayes's chi2_spamprob and mox's junk filter).

/** Token counts: how many spam and ham messages contained each token. */
export interface Counts {
  spam: number;
  ham: number;
}

/** What the classifier reads: token counts and message totals. */
export interface ModelView {
  readonly nspam: number;
  readonly nham: number;
  get(token: string): Counts | undefined;
}

export interface Score {
  /** 0 (ham) … 1 (spam). */
  prob: number;
  /** The strongest tokens used (strongest first), when asked for (`score(…, n)`). */
  clues: { token: string; p: number }[];
}

// SpamBayes defaults: unknown-word strength s and prior x, the tokens kept, the band
// around 0.5 ignored.
const S = 0.45;
const X = 0.5;
const MAX_DISCRIMINATORS = 150;
const MIN_STRENGTH = 0.1;

/** Robinson's f(w): the token's spam probability pulled towards X by how rarely it was seen. */
export function tokenProb(c: Counts, nspam: number, nham: number): number {
  const sr = c.spam / Math.max(nspam, 1);
  const hr = c.ham / Math.max(nham, 1);
  const p = sr + hr === 0 ? X : sr / (sr + hr);
  const n = c.spam + c.ham;
  return (S * X + n * p) / (S + n);
}

/** Chi-square survival function for even degrees of freedom (SpamBayes chi2Q). */
export function chi2Q(x2: number, v: number): number {
  const m = x2 / 2;
  let term = Math.exp(-m);
  let sum = term;
  for (let i = 1; i < v / 2; i++) {
    term *= m / i;
    sum += term;
  }
  return Math.min(sum, 1);
}

/** Grown as needed and reused: scoring allocates nothing per token (it runs for every
 *  message on port 25; the event loop is single-threaded, so one buffer serves all). */
let probs = new Float64Array(1024);
let dists = new Float64Array(1024);

/** The message's spam probability from its tokens: the MAX_DISCRIMINATORS tokens farthest
 *  from 0.5 (at least MIN_STRENGTH away), combined by Fisher's method. `clues` > 0 also
 *  returns that many of the strongest tokens (diagnostics). */
export function score(tokens: Iterable<string>, model: ModelView, clues = 0): Score {
  const nspam = model.nspam;
  const nham = model.nham;
  let n = 0;
  const names: string[] = [];
  for (const t of tokens) {
    const c = model.get(t);
    if (!c) continue;
    const p = tokenProb(c, nspam, nham);
    const d = Math.abs(p - 0.5);
    if (d < MIN_STRENGTH) continue;
    if (n === probs.length) {
      const grow = (a: Float64Array) => {
        const b = new Float64Array(a.length * 2);
        b.set(a);
        return b;
      };
      probs = grow(probs);
      dists = grow(dists);
    }
    probs[n] = p;
    dists[n] = d;
    if (clues > 0) names.push(t);
    n++;
  }
  if (n === 0) return { prob: 0.5, clues: [] };
  // The cut: the MAX_DISCRIMINATORS-th largest distance; ties at the cut are taken in token
  // order (what a stable sort by distance would keep).
  let cut = 0;
  let atCut = Number.POSITIVE_INFINITY;
  if (n > MAX_DISCRIMINATORS) {
    const sorted = dists.slice(0, n).sort();
    cut = sorted[n - MAX_DISCRIMINATORS]!;
    let above = 0;
    for (let i = n - 1; i >= 0 && sorted[i]! > cut; i--) above++;
    atCut = MAX_DISCRIMINATORS - above;
  }
  let lnS = 0;
  let lnH = 0;
  let used = 0;
  const kept: number[] = [];
  for (let i = 0; i < n; i++) {
    const d = dists[i]!;
    if (d < cut) continue;
    if (d === cut && n > MAX_DISCRIMINATORS) {
      if (atCut <= 0) continue;
      atCut--;
    }
    const p = probs[i]!;
    lnS += Math.log(1 - p);
    lnH += Math.log(p);
    used++;
    if (clues > 0) kept.push(i);
  }
  const s = 1 - chi2Q(-2 * lnS, 2 * used);
  const h = 1 - chi2Q(-2 * lnH, 2 * used);
  const top = kept
    .sort((a, b) => dists[b]! - dists[a]! || a - b)
    .slice(0, clues)
    .map((i) => ({ token: names[i]!, p: probs[i]! }));
  return { prob: (s - h + 1) / 2, clues: top };
}

/** An in-memory model (tests, the seed, and the per-account cache). */
export class MemoryModel implements ModelView {
  nspam = 0;
  nham = 0;
  readonly tokens = new Map<string, Counts>();

  get(token: string): Counts | undefined {
    return this.tokens.get(token);
  }

  /** Adds (+1) or removes (-1) one message's tokens; returns the counts changed. */
  learn(tokens: Iterable<string>, kind: "spam" | "ham", delta: 1 | -1 = 1): Map<string, Counts> {
    const changed = new Map<string, Counts>();
    if (kind === "spam") this.nspam = Math.max(0, this.nspam + delta);
    else this.nham = Math.max(0, this.nham + delta);
    for (const t of tokens) {
      let c = this.tokens.get(t);
      if (!c) {
        if (delta < 0) continue;
        c = { spam: 0, ham: 0 };
        this.tokens.set(t, c);
      }
      c[kind] = Math.max(0, c[kind] + delta);
      if (c.spam === 0 && c.ham === 0) this.tokens.delete(t);
      changed.set(t, c);
    }
    return changed;
  }
}

/** The account's own counts on top of the shared seed, so a new account classifies from
 *  the first message and its own training soon outweighs the seed. */
export class LayeredModel implements ModelView {
  constructor(
    private readonly own: ModelView,
    private readonly seed: ModelView,
  ) {}
  get nspam(): number {
    return this.own.nspam + this.seed.nspam;
  }
  get nham(): number {
    return this.own.nham + this.seed.nham;
  }
  get(token: string): Counts | undefined {
    const a = this.own.get(token);
    const b = this.seed.get(token);
    if (!a) return b;
    if (!b) return a;
    return { spam: a.spam + b.spam, ham: a.ham + b.ham };
  }
}
