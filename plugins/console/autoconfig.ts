// Mail apps configure themselves: Thunderbird autoconfig (config-v1.1.xml at
// /.well-known/autoconfig/mail/ and, on autoconfig.<domain>, /mail/), Outlook autodiscover
// (POST /autodiscover/autodiscover.xml, the 2006a "outlook" response schema), and an
// Apple configuration profile (.mobileconfig). Only local domains are answered.
import type { Hono } from "hono";
import type { Core } from "../../core/types.ts";
import { mailSettings, type MailSettingsData } from "./mail-settings.tsx";

const esc = (s: string) => s.replace(/[<>&"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
const ADDRESS = /^[^@\s<>"]{1,64}@([^@\s<>"]{1,253})$/;

export function thunderbirdXml(domain: string, s: MailSettingsData): string {
  const server = (tag: string, type: string, port: number, socket: string) =>
    `    <${tag} type="${type}">\n      <hostname>${esc(s.host)}</hostname>\n      <port>${port}</port>\n      <socketType>${socket}</socketType>\n      <authentication>password-cleartext</authentication>\n      <username>%EMAILADDRESS%</username>\n    </${tag}>`;
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<clientConfig version="1.1">',
    `  <emailProvider id="${esc(domain)}">`,
    `    <domain>${esc(domain)}</domain>`,
    `    <displayName>${esc(domain)} mail</displayName>`,
    `    <displayShortName>${esc(domain)}</displayShortName>`,
    server("incomingServer", "imap", s.imaps, "SSL"),
    server("incomingServer", "pop3", s.pop3s, "SSL"),
    server("outgoingServer", "smtp", s.submissions, "SSL"),
    server("outgoingServer", "smtp", s.submission, "STARTTLS"),
    "  </emailProvider>",
    "</clientConfig>",
    "",
  ].join("\n");
}

export function autodiscoverXml(s: MailSettingsData): string {
  const proto = (type: string, port: number) =>
    `      <Protocol>\n        <Type>${type}</Type>\n        <Server>${esc(s.host)}</Server>\n        <Port>${port}</Port>\n        <LoginName>${esc(s.address)}</LoginName>\n        <DomainRequired>off</DomainRequired>\n        <SPA>off</SPA>\n        <SSL>on</SSL>\n        <AuthRequired>on</AuthRequired>\n      </Protocol>`;
  return [
    '<?xml version="1.0" encoding="utf-8"?>',
    '<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006">',
    '  <Response xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a">',
    "    <Account>",
    "      <AccountType>email</AccountType>",
    "      <Action>settings</Action>",
    proto("IMAP", s.imaps),
    proto("POP3", s.pop3s),
    proto("SMTP", s.submissions),
    "    </Account>",
    "  </Response>",
    "</Autodiscover>",
    "",
  ].join("\n");
}

/** An Apple configuration profile with one mail account (com.apple.mail.managed). */
export function mobileconfig(s: MailSettingsData): string {
  const uuid = () => crypto.randomUUID().toUpperCase();
  const kv = (k: string, v: string | number | boolean) =>
    `      <key>${k}</key>\n      ${typeof v === "boolean" ? (v ? "<true/>" : "<false/>") : typeof v === "number" ? `<integer>${v}</integer>` : `<string>${esc(v)}</string>`}`;
  const id = `kotakpos.${s.host.split(".").reverse().join(".")}`;
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">',
    '<plist version="1.0">',
    "<dict>",
    "  <key>PayloadContent</key>",
    "  <array>",
    "    <dict>",
    kv("EmailAccountDescription", s.address),
    kv("EmailAccountType", "EmailTypeIMAP"),
    kv("EmailAddress", s.address),
    kv("IncomingMailServerAuthentication", "EmailAuthPassword"),
    kv("IncomingMailServerHostName", s.host),
    kv("IncomingMailServerPortNumber", s.imaps),
    kv("IncomingMailServerUseSSL", true),
    kv("IncomingMailServerUsername", s.address),
    kv("OutgoingMailServerAuthentication", "EmailAuthPassword"),
    kv("OutgoingMailServerHostName", s.host),
    kv("OutgoingMailServerPortNumber", s.submissions),
    kv("OutgoingMailServerUseSSL", true),
    kv("OutgoingMailServerUsername", s.address),
    kv("OutgoingPasswordSameAsIncomingPassword", true),
    kv("PayloadIdentifier", `${id}.mail`),
    kv("PayloadType", "com.apple.mail.managed"),
    kv("PayloadUUID", uuid()),
    kv("PayloadVersion", 1),
    "    </dict>",
    "  </array>",
    kv("PayloadDisplayName", `Mail: ${s.address}`).replace(/^ {4}/gm, ""),
    kv("PayloadIdentifier", id).replace(/^ {4}/gm, ""),
    kv("PayloadType", "Configuration").replace(/^ {4}/gm, ""),
    kv("PayloadUUID", uuid()).replace(/^ {4}/gm, ""),
    kv("PayloadVersion", 1).replace(/^ {4}/gm, ""),
    "</dict>",
    "</plist>",
    "",
  ].join("\n");
}

export function autoconfigRoutes(app: Hono, core: Core): void {
  /** The local domain asked about: from the address, else autoconfig.<domain> in Host. */
  async function localDomain(address: string | undefined, host: string | undefined): Promise<string | null> {
    const fromAddr = address ? ADDRESS.exec(address.trim())?.[1] : undefined;
    const fromHost = host
      ?.toLowerCase()
      .replace(/:\d+$/, "")
      .replace(/^autoconfig\./, "");
    const d = (fromAddr ?? fromHost ?? "").toLowerCase();
    return d && (await core.store.isLocalDomain(d)) ? d : null;
  }
  const thunderbird = async (c: import("hono").Context) => {
    const address = c.req.query("emailaddress");
    const d = await localDomain(address, c.req.header("host"));
    if (!d) return c.text("no such mail domain here\n", 404);
    return c.body(thunderbirdXml(d, mailSettings(core, address ?? `%EMAILADDRESS%`)), 200, { "Content-Type": "application/xml; charset=utf-8" });
  };
  app.get("/.well-known/autoconfig/mail/config-v1.1.xml", thunderbird);
  app.get("/mail/config-v1.1.xml", thunderbird);
  for (const path of ["/autodiscover/autodiscover.xml", "/Autodiscover/Autodiscover.xml"])
    app.post(path, async (c) => {
      const body = await c.req.text();
      const address = /<EMailAddress>\s*([^<\s]+)\s*<\/EMailAddress>/i.exec(body)?.[1];
      if (!address || !(await localDomain(address, undefined))) return c.text("no such mail domain here\n", 404);
      return c.body(autodiscoverXml(mailSettings(core, address)), 200, { "Content-Type": "application/xml; charset=utf-8" });
    });
  app.get("/autoconfig/mobileconfig", async (c) => {
    const address = c.req.query("email") ?? "";
    if (!ADDRESS.test(address) || !(await localDomain(address, undefined))) return c.text("give ?email= an address of a local domain\n", 404);
    return c.body(mobileconfig(mailSettings(core, address.toLowerCase())), 200, {
      "Content-Type": "application/x-apple-aspen-config",
      "Content-Disposition": `attachment; filename="${address.replace(/[^\w.@-]/g, "_")}.mobileconfig"`,
    });
  });
}
