// Classifier quality on the SpamAssassin public corpus (issue 22): train on a seeded
// random 80 %, classify the other 20 %; floors: ≥ 95 % of spam caught, ≤ 1 % of ham
// misfiled. The real figures are printed for the closing note.
import { expect, test } from "bun:test";
import { score } from "./bayes.ts";
import { loadCorpus, trainedSplit } from "./corpus.ts";
import { tokenize } from "./tokenize.ts";
import { SPAM_THRESHOLD } from "./classify.ts";

test("SpamAssassin corpus: 80/20 split, spam caught ≥ 95 %, ham misfiled ≤ 1 %", () => {
  const corpus = loadCorpus();
  expect(corpus.spam.length).toBeGreaterThan(1800);
  expect(corpus.ham.length).toBeGreaterThan(4000);
  const { model, spam, ham } = trainedSplit(corpus);
  const caught = spam.test.filter((m) => score(tokenize(m), model).prob >= SPAM_THRESHOLD).length;
  const misfiled = ham.test.filter((m) => score(tokenize(m), model).prob >= SPAM_THRESHOLD).length;
  const spamRate = caught / spam.test.length;
  const hamRate = misfiled / ham.test.length;
  console.log(
    JSON.stringify({
      corpus: "spamassassin",
      threshold: SPAM_THRESHOLD,
      spamTest: spam.test.length,
      spamCaught: caught,
      spamCaughtPct: +(spamRate * 100).toFixed(2),
      hamTest: ham.test.length,
      hamMisfiled: misfiled,
      hamMisfiledPct: +(hamRate * 100).toFixed(2),
    }),
  );
  expect(spamRate).toBeGreaterThanOrEqual(0.95);
  expect(hamRate).toBeLessThanOrEqual(0.01);
}, 120_000);
