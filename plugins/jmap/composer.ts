// nodemailer's MailComposer, loaded on first use (a vacation reply, a draft from parts):
// with its MIME helpers it weighs ~15 MiB of RSS that an idle server should not carry.
import type MailComposer from "nodemailer/lib/mail-composer";

let loaded: Promise<typeof MailComposer> | null = null;

export function composer(): Promise<typeof MailComposer> {
  loaded ??= import("nodemailer/lib/mail-composer").then((m) => m.default);
  return loaded;
}
