// The `[greylist]` config section (descriptions end up in the commented default config file).
import * as v from "valibot";

export const GreylistConfig = v.object({
  enabled: v.optional(
    v.pipe(
      v.boolean(),
      v.description(
        "Greylisting on port 25: the first message of an unknown (client network, sender, recipient) triplet is deferred with 451 until the sender retries after `delaySeconds`. Off by default: it delays first contact.",
      ),
    ),
    false,
  ),
  delaySeconds: v.optional(v.pipe(v.number(), v.minValue(0), v.description("How long a new triplet is deferred; a retry after this is accepted.")), 60),
  retryHours: v.optional(v.pipe(v.number(), v.minValue(1), v.description("A triplet whose sender did not retry within this many hours starts over.")), 24),
  passedDays: v.optional(v.pipe(v.number(), v.minValue(1), v.description("How long a sender that passed (its domain from its client network) is remembered and not greylisted again.")), 35),
});

export type GreylistConfig = v.InferOutput<typeof GreylistConfig>;
