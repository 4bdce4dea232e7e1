// The `[ratelimit]` config section (descriptions end up in the commented default config file).
import * as v from "valibot";

const count = v.pipe(v.number(), v.integer(), v.minValue(0));

export const RatelimitConfig = v.object({
  messagesPerHour: v.optional(v.pipe(count, v.description("Messages one account may submit per hour (0 = no limit); over it: 451 4.7.0 and one alert to the admins.")), 500),
  recipientsPerHour: v.optional(v.pipe(count, v.description("Recipients one account may submit to per hour (0 = no limit).")), 2000),
  ipMessagesPerHour: v.optional(v.pipe(count, v.description("Messages submitted per hour from one IP address, all accounts together (0 = no limit).")), 1000),
  ipRecipientsPerHour: v.optional(v.pipe(count, v.description("Recipients submitted to per hour from one IP address (0 = no limit).")), 4000),
  burstNewRecipients: v.optional(v.pipe(count, v.description("New recipients (never written to before) within burstMinutes that hold the account's sending and alert the admins (0 = off).")), 100),
  burstMinutes: v.optional(v.pipe(v.number(), v.minValue(1), v.description("Window of the burst check, in minutes.")), 10),
  holdMinutes: v.optional(v.pipe(v.number(), v.minValue(1), v.description("How long a held account's submissions are deferred (451) after a burst.")), 60),
  maxAuthFailures: v.optional(
    v.pipe(
      count,
      v.description("Failed logins from one IP within authWindowMinutes after which the IP is refused on every service (0 = off). Each failure is logged as `auth failure rip=IP` for fail2ban."),
    ),
    10,
  ),
  authWindowMinutes: v.optional(v.pipe(v.number(), v.minValue(1), v.description("Window of the failed-login count, in minutes.")), 15),
  banMinutes: v.optional(v.pipe(v.number(), v.minValue(1), v.description("How long an IP with too many failed logins is refused.")), 60),
  alertTo: v.optional(v.pipe(v.array(v.string()), v.description("Addresses alerted when an account hits a limit or is held; empty = postmaster@ the first local domain.")), []),
});

export type RatelimitConfig = v.InferOutput<typeof RatelimitConfig>;
