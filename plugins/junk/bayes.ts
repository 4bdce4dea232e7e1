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
  /** The strongest tokens used, for the header and the log. */
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

export function score(tokens: Iterable<string>, model: ModelView): Score {
  const cands: { token: string; p: number; d: number }[] = [];
  for (const t of tokens) {
    const c = model.get(t);
    if (!c) continue;
    const p = tokenProb(c, model.nspam, model.nham);
    const d = Math.abs(p - 0.5);
    if (d >= MIN_STRENGTH) cands.push({ token: t, p, d });
  }
  cands.sort((a, b) => b.d - a.d);
  const clues = cands.slice(0, MAX_DISCRIMINATORS);
  if (clues.length === 0) return { prob: 0.5, clues: [] };
  let lnS = 0;
  let lnH = 0;
  for (const c of clues) {
    lnS += Math.log(1 - c.p);
    lnH += Math.log(c.p);
  }
  const n = clues.length;
  const s = 1 - chi2Q(-2 * lnS, 2 * n);
  const h = 1 - chi2Q(-2 * lnH, 2 * n);
  return { prob: (s - h + 1) / 2, clues: clues.map(({ token, p }) => ({ token, p })) };
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
