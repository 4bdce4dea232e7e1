// The sender side of the "checks on" SMTP benchmarks (smtp.ts, postfix.ts): a local
// authoritative DNS server (tests/helpers/dns-server.ts) for the sender domain remote.test
// — SPF allows 127.0.0.1 for it and for the HELO names, an RSA-2048 DKIM key, DMARC
// p=reject — with a TTL, so the server's resolver caches as it would in real life.
import { newKeyPair } from "../../../plugins/mailauth/keys.ts";
import { dkimRecordText } from "../../../plugins/mailauth/records.ts";
import { startTestDns } from "../../../tests/helpers/dns-server.ts";

export const SENDER_DOMAIN = "remote.test";
export const DKIM_SELECTOR = "bench2026";

export interface SenderDns {
  /** "127.0.0.1:port", for config dns.servers. */
  server: string;
  /** Queries answered so far (few: the resolver caches). */
  readonly queries: number;
  /** The DKIM private key (PEM) whose public half is published. */
  keyPem: string;
  close(): Promise<void>;
}

export async function startSenderDns(heloNames: string[]): Promise<SenderDns> {
  const kp = await newKeyPair("rsa-sha256");
  const spf = { TXT: ["v=spf1 ip4:127.0.0.1 -all"] };
  const dns = await startTestDns(
    {
      [SENDER_DOMAIN]: spf,
      ...Object.fromEntries(heloNames.map((h) => [h, spf])),
      [`_dmarc.${SENDER_DOMAIN}`]: { TXT: ["v=DMARC1; p=reject"] },
      [`${DKIM_SELECTOR}._domainkey.${SENDER_DOMAIN}`]: { TXT: [dkimRecordText({ algorithm: "rsa-sha256", publicKey: kp.publicKey })] },
    },
    { ttl: 300, negativeTtl: 300 },
  );
  return {
    server: dns.server,
    get queries() {
      return dns.queries;
    },
    keyPem: kp.privateKey,
    close: () => dns.close(),
  };
}
