// The `[junk]` config section (descriptions end up in the commented default config file).
import * as v from "valibot";

export const JunkConfig = v.object({
  enabled: v.optional(
    v.pipe(v.boolean(), v.description("Classify mail arriving on port 25 with each recipient's own Bayesian junk filter; spam is filed into Junk (never refused on the classifier alone).")),
    true,
  ),
  threshold: v.optional(v.pipe(v.number(), v.minValue(0.5), v.maxValue(1), v.description("Spam probability at or above which a message goes to Junk.")), 0.9),
  seed: v.optional(v.pipe(v.boolean(), v.description("Start every account from the small shared seed model (generic tokens of the SpamAssassin public corpus).")), true),
});

export type JunkConfig = v.InferOutput<typeof JunkConfig>;
