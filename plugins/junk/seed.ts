// The shared seed model (seed.json, made by make-seed.ts) every account starts from.
import { MemoryModel } from "./bayes.ts";
import seedData from "./seed.json" with { type: "json" };

interface SeedFile {
  nspam: number;
  nham: number;
  tokens: Record<string, number[]>;
}

export function loadSeed(data: SeedFile = seedData): MemoryModel {
  const m = new MemoryModel();
  m.nspam = data.nspam;
  m.nham = data.nham;
  for (const [t, [spam = 0, ham = 0]] of Object.entries(data.tokens)) m.tokens.set(t, { spam, ham });
  return m;
}
