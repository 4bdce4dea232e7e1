// plugins/jmap settings ([jmap] in kotakpos.toml): the limits advertised in the session's
// core capability (RFC 8620 §2) and enforced.
import * as v from "valibot";

const n = (d: number, description: string) => v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.description(description)), d);

export const JmapConfigSchema = v.object({
  maxSizeUpload: n(50_000_000, "Largest upload (and attachment total) in bytes."),
  maxConcurrentUpload: n(4, "Uploads one user may run at once (advertised to clients)."),
  maxSizeRequest: n(10_000_000, "Largest API request body in bytes."),
  maxConcurrentRequests: n(8, "API requests one user may have in flight at once."),
  maxCallsInRequest: n(32, "Most method calls in one API request."),
  maxObjectsInGet: n(1000, "Most ids in one /get call."),
  maxObjectsInSet: n(1000, "Most creates + updates + destroys in one /set call."),
  /** Uploaded blobs not used by then are deleted (RFC 8620 §6.1: at least 1 hour). */
  uploadTtlMs: n(24 * 3600_000, "Uploads older than this (ms) are deleted."),
});
export type JmapConfig = v.InferOutput<typeof JmapConfigSchema>;
