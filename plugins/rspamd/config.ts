// The `[rspamd]` config section (descriptions end up in the commented default config file).
import * as v from "valibot";

const url = v.pipe(v.string(), v.regex(/^(https?:\/\/[^\s/]+\/?)?$/, "an http(s) URL like http://127.0.0.1:11333"));

export const RspamdConfig = v.object({
  url: v.optional(
    v.pipe(
      url,
      v.description(
        "rspamd's normal worker, e.g. \"http://127.0.0.1:11333\"; empty = the rspamd plugin is off. Every message arriving on port 25 is checked through /checkv2 and rspamd's action applied.",
      ),
    ),
    "",
  ),
  controllerUrl: v.optional(v.pipe(url, v.description("rspamd's controller for learn_spam / learn_ham when a user moves mail into or out of Junk; empty = the url's host on port 11334.")), ""),
  password: v.optional(v.pipe(v.string(), v.description("Controller password (not needed when kotakpos connects from one of rspamd's secure_ip addresses).")), ""),
  timeout: v.optional(v.pipe(v.number(), v.minValue(0.1), v.description("Seconds to wait for rspamd before giving up on the check.")), 5),
  outbound: v.optional(v.pipe(v.boolean(), v.description("Also check mail submitted by our own users (a compromised account's spam is refused).")), false),
  onFailure: v.optional(
    v.pipe(v.picklist(["accept", "defer"]), v.description('When rspamd does not answer: "accept" the message without a score (never loses mail), or "defer" it with 451 so the sender retries.')),
    "accept",
  ),
});

export type RspamdConfig = v.InferOutput<typeof RspamdConfig>;
