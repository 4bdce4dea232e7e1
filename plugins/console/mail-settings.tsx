// The settings to type into a mail app (IMAP 993, POP3 995, SMTP 465/587), shown at the
// end of the wizard and on the account page. Ports are the standard ones plus the offset.
import type { Core } from "../../core/types.ts";

export interface MailSettingsData {
  address: string;
  host: string;
  imaps: number;
  pop3s: number;
  submissions: number;
  submission: number;
}

/** The port clients use for a listener: its configured standard port plus the offset
 *  (the same rule as `serve`: unset offset = 0 as root, 10000 otherwise). A port of 0
 *  (any free port, tests) cannot be advertised: the standard port is named instead. */
export function publicPort(core: Core, name: "imaps" | "pop3s" | "submissions" | "submission" | "imap" | "pop3", std: number): number {
  const off = core.config.listen.portOffset ?? (process.getuid?.() === 0 ? 0 : 10000);
  const configured = (core.config.listen.ports as Record<string, number>)[name];
  return (configured || std) + off;
}

export function mailSettings(core: Core, address: string): MailSettingsData {
  return { address, host: core.config.hostname, imaps: publicPort(core, "imaps", 993), pop3s: publicPort(core, "pop3s", 995), submissions: publicPort(core, "submissions", 465), submission: publicPort(core, "submission", 587) };
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
