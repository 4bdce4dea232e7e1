// Recent deliveries, deferrals and bounces with their reason (from the delivered /
// deferred / bounced hooks) and the SMTP-time rejections (the smtp.rejected hook), kept in
// memory for the admin's activity page.
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

export function createActivity(hooks: Hooks) {
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
  return { recent: (): readonly ActivityEntry[] => entries, rejections: (): readonly Rejection[] => rejections };
}

export type Activity = ReturnType<typeof createActivity>;
