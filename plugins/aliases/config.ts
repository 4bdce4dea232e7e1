// The `[aliases]` config section.
import * as v from "valibot";

const int = (min: number, max: number) => v.pipe(v.number(), v.integer(), v.minValue(min), v.maxValue(max));

export const AliasesConfig = v.object({
  separator: v.optional(
    v.pipe(
      v.string(),
      v.regex(/^[^\s@"<>\p{L}\p{N}]{0,4}$/u, "up to 4 punctuation characters like + or -"),
      v.description('Sub-address separators: mail to user+tag@ goes to user@ ("" turns plus-addressing off).'),
    ),
    "+",
  ),
  tagFolder: v.optional(v.pipe(v.boolean(), v.description("Deliver user+tag@ into the user's folder named tag when it exists (else INBOX).")), false),
  caseSensitiveLocalParts: v.optional(v.pipe(v.boolean(), v.description("Treat User@ and user@ as different addresses (RFC 5321 allows it; nobody expects it).")), false),
  maxDepth: v.optional(v.pipe(int(1, 50), v.description("Most levels of aliases within aliases.")), 10),
  maxExpansion: v.optional(v.pipe(int(1, 1_000_000), v.description("Most distinct addresses one recipient may expand to.")), 10_000),
  srs: v.optional(
    v.object({
      enabled: v.optional(v.pipe(v.boolean(), v.description("Rewrite the envelope sender of forwards to other domains with SRS, so SPF passes there.")), true),
      maxAgeDays: v.optional(v.pipe(int(1, 1000), v.description("Days a bounce to an SRS address is accepted.")), 21),
      domain: v.optional(v.pipe(v.string(), v.description('Domain of SRS addresses ("" = the domain of the alias that forwards).')), ""),
    }),
    {},
  ),
});

export type AliasesConfig = v.InferOutput<typeof AliasesConfig>;
