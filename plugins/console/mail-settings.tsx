/** @jsxImportSource hono/jsx */
// The settings to type into a mail app (IMAP 993, POP3 995, SMTP 465/587), shown at the
// end of the wizard and on the account page (ports: core/config.ts clientPort).
import { clientPort } from "../../core/config.ts";
import type { Core } from "../../core/types.ts";

export interface MailSettingsData {
  address: string;
  host: string;
  imaps: number;
  pop3s: number;
  submissions: number;
  submission: number;
}

export function mailSettings(core: Core, address: string): MailSettingsData {
  const port = (name: string, std: number) => clientPort(core.config, name, std);
  return { address, host: core.config.hostname, imaps: port("imaps", 993), pop3s: port("pop3s", 995), submissions: port("submissions", 465), submission: port("submission", 587) };
}

export function MailSettings(p: { s: MailSettingsData }) {
  const { s } = p;
  return (
    <section class="card">
      <h2>Settings for your mail app</h2>
      <p class="small muted">Most apps find these by themselves from your address (autoconfig). If asked:</p>
      <dl class="settings">
        <dt>User name</dt>
        <dd>{s.address}</dd>
        <dt>Incoming (IMAP)</dt>
        <dd>
          {s.host} port {s.imaps}, SSL/TLS
        </dd>
        <dt>Incoming (POP3)</dt>
        <dd>
          {s.host} port {s.pop3s}, SSL/TLS
        </dd>
        <dt>Outgoing (SMTP)</dt>
        <dd>
          {s.host} port {s.submissions}, SSL/TLS (or {s.submission}, STARTTLS)
        </dd>
        <dt>Password</dt>
        <dd>your password (an app password when two-factor login is on)</dd>
      </dl>
    </section>
  );
}
