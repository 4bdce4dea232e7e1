// A smarthost (`[delivery.relay]`): outbound mail of all, or of some sender domains, goes
// to one relay with TLS (implicit on 465, else STARTTLS, always required, certificate
// verified) and AUTH — the way out for a home line whose port 25 is blocked. The password
// comes from `passwordFile` or $KOTAKPOS_RELAY_PASSWORD, never from the config file, and is
// never logged.
import { readFileSync } from "node:fs";
import type { Config } from "../config.ts";
import type { NextHop } from "../types.ts";

export interface RelayPreset {
  /** "smtp://host:587" (STARTTLS) or "smtps://host:465" (implicit TLS). */
  url: string;
  /** What `kotakpos dns` adds to SPF (`include:…`), when the provider publishes one. */
  spfInclude?: string;
  /** Also try port 2525 when 587 does not connect (some ISPs block 587 too). */
  fallback2525?: boolean;
}

/** Common providers (the wizard offers these; `preset = "name"` in the config). */
export const RELAY_PRESETS: Record<string, RelayPreset> = {
  sendgrid: { url: "smtp://smtp.sendgrid.net:587", spfInclude: "sendgrid.net", fallback2525: true },
  mailgun: { url: "smtp://smtp.mailgun.org:587", spfInclude: "mailgun.org", fallback2525: true },
  postmark: { url: "smtp://smtp.postmarkapp.com:587", spfInclude: "spf.mtasv.net", fallback2525: true },
  brevo: { url: "smtp://smtp-relay.brevo.com:587", spfInclude: "spf.brevo.com", fallback2525: true },
  mailjet: { url: "smtp://in-v3.mailjet.com:587", spfInclude: "spf.mailjet.com", fallback2525: true },
  smtp2go: { url: "smtp://mail.smtp2go.com:587", spfInclude: "spf.smtp2go.com", fallback2525: true },
  fastmail: { url: "smtps://smtp.fastmail.com:465", spfInclude: "spf.messagingengine.com" },
  gmail: { url: "smtp://smtp.gmail.com:587", spfInclude: "_spf.google.com" },
  "amazon-ses-us-east-1": { url: "smtp://email-smtp.us-east-1.amazonaws.com:587", spfInclude: "amazonses.com", fallback2525: true },
  "amazon-ses-eu-west-1": { url: "smtp://email-smtp.eu-west-1.amazonaws.com:587", spfInclude: "amazonses.com", fallback2525: true },
};

export type RelayConfig = Config["delivery"]["relay"];

export interface RelaySpec {
  host: string;
  port: number;
  implicitTls: boolean;
  fallback2525: boolean;
  username: string;
  spfInclude?: string;
  /** Where the password comes from, for messages (never the password). */
  passwordFrom: string;
  caFile: string;
}

export class RelayConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RelayConfigError";
  }
}

/** The relay of the config, or null when none is set. Throws RelayConfigError on a bad URL. */
export function relaySpec(cfg: RelayConfig, env: Record<string, string | undefined> = process.env): RelaySpec | null {
  const preset = cfg.preset ? RELAY_PRESETS[cfg.preset] : undefined;
  if (cfg.preset && !preset) throw new RelayConfigError(`delivery.relay.preset "${cfg.preset}" is unknown (one of ${Object.keys(RELAY_PRESETS).join(", ")})`);
  const url = cfg.url || preset?.url;
  if (!url) return null;
  const m = /^(smtps?):\/\/(\[[0-9a-f:.]+\]|[a-z0-9.-]+)(?::(\d{1,5}))?\/?$/i.exec(url);
  if (!m) throw new RelayConfigError(`delivery.relay.url "${url}" is not smtp://host:port (STARTTLS) or smtps://host:port (implicit TLS)`);
  const implicitTls = m[1]!.toLowerCase() === "smtps";
  const port = Number(m[3] ?? (implicitTls ? 465 : 587));
  return {
    host: m[2]!.replace(/^\[|\]$/g, "").toLowerCase(),
    port,
    implicitTls,
    fallback2525: !implicitTls && port === 587 && (preset?.fallback2525 ?? true),
    username: cfg.username,
    spfInclude: preset?.spfInclude,
    passwordFrom: cfg.passwordFile ? `delivery.relay.passwordFile (${cfg.passwordFile})` : env.KOTAKPOS_RELAY_PASSWORD !== undefined ? "$KOTAKPOS_RELAY_PASSWORD" : "",
    caFile: cfg.caFile,
  };
}

/** Does the relay take mail of this envelope sender? (`domains` empty: all mail.) */
export function relayApplies(cfg: RelayConfig, mailFrom: string): boolean {
  if (cfg.domains.length === 0) return true;
  const domain = mailFrom.slice(mailFrom.lastIndexOf("@") + 1).toLowerCase();
  return mailFrom !== "" && cfg.domains.some((d) => d.toLowerCase() === domain);
}

/** The hops to the relay, with credentials and CA read now (so a changed file is used). */
export function relayHops(spec: RelaySpec, env: Record<string, string | undefined> = process.env): NextHop[] {
  let password: string | undefined;
  if (spec.username) {
    if (spec.passwordFrom.startsWith("delivery.relay.passwordFile")) {
      const file = spec.passwordFrom.slice(spec.passwordFrom.indexOf("(") + 1, -1);
      try {
        password = readFileSync(file, "utf8").replace(/\r?\n$/, "");
      } catch (e) {
        throw new RelayConfigError(`the relay password file ${file} cannot be read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
      }
    } else password = env.KOTAKPOS_RELAY_PASSWORD;
    if (password === undefined) throw new RelayConfigError("delivery.relay.username is set but no password: set delivery.relay.passwordFile or $KOTAKPOS_RELAY_PASSWORD");
  }
  let ca: string[] | undefined;
  if (spec.caFile) {
    try {
      ca = [readFileSync(spec.caFile, "utf8")];
    } catch (e) {
      throw new RelayConfigError(`delivery.relay.caFile ${spec.caFile} cannot be read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  }
  const hop = (port: number, preference: number): NextHop => ({
    host: spec.host,
    port,
    preference,
    requireTls: true,
    verifyTls: `the relay ${spec.host}`,
    implicitTls: spec.implicitTls,
    ...(password !== undefined && { auth: { username: spec.username, password } }),
    ...(ca && { ca }),
  });
  return spec.fallback2525 ? [hop(spec.port, 0), hop(2525, 1)] : [hop(spec.port, 0)];
}
