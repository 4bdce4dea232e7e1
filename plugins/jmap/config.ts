// plugins/jmap settings ([jmap] in kotakpos.toml): the limits advertised in the session's
// core capability (RFC 8620 §2) and enforced.
import * as v from "valibot";

const n = (d: number) => v.optional(v.pipe(v.number(), v.integer(), v.minValue(1)), d);

export const JmapConfigSchema = v.object({
  maxSizeUpload: n(50_000_000),
  maxConcurrentUpload: n(4),
  maxSizeRequest: n(10_000_000),
  maxConcurrentRequests: n(8),
  maxCallsInRequest: n(32),
  maxObjectsInGet: n(1000),
  maxObjectsInSet: n(1000),
  /** Uploaded blobs not used by then are deleted (RFC 8620 §6.1: at least 1 hour). */
  uploadTtlMs: n(24 * 3600_000),
});
export type JmapConfig = v.InferOutput<typeof JmapConfigSchema>;
