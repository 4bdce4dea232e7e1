// Alerts to the admins: a short plain-text message through the spool (durable, like any
// mail), to local accounts directly and to remote addresses by MX.
import type { Core } from "../../core/types.ts";

function rfc5322Date(d = new Date()): string {
  return d.toUTCString().replace("GMT", "+0000");
}

export async function sendAlert(core: Core, to: string[], subject: string, text: string): Promise<void> {
  let recipients = to;
  if (recipients.length === 0) {
    const d = (await core.store.listDomains())[0]?.name;
    if (!d) return core.log.warn("rate limit alert not sent: no domain for postmaster", { subject });
    recipients = [`postmaster@${d}`];
  }
  const local: { accountId: number; mailbox: string }[] = [];
  const remote: { address: string }[] = [];
  for (const r of recipients) {
    const acct = await core.store.getAccount(r);
    if (acct) local.push({ accountId: acct.id, mailbox: "INBOX" });
    else if (!(await core.store.isLocalDomain(r.slice(r.lastIndexOf("@") + 1)))) remote.push({ address: r });
    else core.log.warn("rate limit alert: no such local account", { to: r });
  }
  if (local.length + remote.length === 0) return;
  const from = `postmaster@${core.config.hostname}`;
  const raw = [
    `From: kotakpos <${from}>`,
    `To: ${recipients.join(", ")}`,
    `Subject: ${subject}`,
    `Date: ${rfc5322Date()}`,
    `Message-ID: <${crypto.randomUUID()}@${core.config.hostname}>`,
    "Auto-Submitted: auto-generated",
    "MIME-Version: 1.0",
    "Content-Type: text/plain; charset=utf-8",
    "",
    text,
    "",
  ].join("\r\n");
  // RFC 3834: auto-generated, null sender so nothing bounces back to it.
  await core.spool.accept({ raw: Buffer.from(raw), prefix: [], mailFrom: "", local, remote, internal: true });
}
