// Recent deliveries, deferrals and bounces with their reason (from the delivered /
// deferred / bounced hooks) and the SMTP-time rejections (the smtp.rejected hook), kept in
// memory for the admin's activity page.
import type { Store } from "../../core/store/types.ts";
import type { Hooks, SmtpRejection } from "../../core/types.ts";

export interface ActivityEntry {
  at: number;
  kind: "delivered" | "deferred" | "bounced";
  id: string;
  recipient: string;
  detail: string;
}

export interface Rejection extends SmtpRejection {
  at: number;
}

const KEEP = 200;

/** Today's mail, counted from events since the server started (UTC days). */
export interface Today {
  /** Copies delivered into local mailboxes. */
  received: number;
  /** Remote recipients delivered. */
  sent: number;
  /** When counting began today: the start of the day, or the server's start if later. */
  since: number;
}

const dayOf = (ms: number) => Math.floor(ms / 86_400_000);

export function createActivity(hooks: Hooks, store: Pick<Store, "onChange">) {
  const started = Date.now();
  let day = dayOf(started);
  let today = { received: 0, sent: 0 };
  const count = (k: "received" | "sent", n: number) => {
    if (dayOf(Date.now()) !== day) {
      day = dayOf(Date.now());
      today = { received: 0, sent: 0 };
    }
    today[k] += n;
  };
  store.onChange((ev) => {
    if (ev.kind === "append" && ev.delivered) count("received", ev.uids.length);
  });
  hooks.on("delivered", () => void count("sent", 1));
  const entries: ActivityEntry[] = [];
  const add = (e: Omit<ActivityEntry, "at">) => {
    entries.unshift({ at: Date.now(), ...e });
    entries.length = Math.min(entries.length, KEEP);
  };
  hooks.on("delivered", (i) => add({ kind: "delivered", id: i.id, recipient: i.recipient, detail: i.reply }));
  hooks.on("deferred", (i) => add({ kind: "deferred", id: i.id, recipient: i.recipient, detail: `${i.error} (try ${i.attempts})` }));
  hooks.on("bounced", (i) => add({ kind: "bounced", id: i.id, recipient: i.recipient, detail: i.error }));
  const rejections: Rejection[] = [];
  hooks.on("smtp.rejected", (r) => {
    rejections.unshift({ at: Date.now(), ...r });
    rejections.length = Math.min(rejections.length, KEEP);
  });
  return {
    recent: (): readonly ActivityEntry[] => entries,
    rejections: (): readonly Rejection[] => rejections,
    today(): Today {
      count("sent", 0); // rolls the counters over at midnight
      return { ...today, since: Math.max(started, day * 86_400_000) };
    },
  };
}

export type Activity = ReturnType<typeof createActivity>;
