// TLS-RPT (RFC 8460) for our outbound mail: per recipient domain and day, how many
// deliveries went through under an MTA-STS policy (or without one) and which TLS failures
// happened; once a day the aggregate goes to the `rua` of domains that publish a
// `_smtp._tls` record, as a multipart/report mail (§5.3) with the gzipped JSON (§4.4).
// Counts are per delivery attempt and recipient (our sessions are not tracked apart).
import { gzipSync } from "node:zlib";
import { like, eq } from "drizzle-orm";
import type { Db } from "../../core/db/open.ts";
import { settings } from "../../core/db/schema.ts";
import type { Policy } from "./policy.ts";

export type ResultType = "starttls-not-supported" | "certificate-host-mismatch" | "certificate-expired" | "certificate-not-trusted" | "validation-failure";

export interface DayAggregate {
  policyType: "sts" | "no-policy-found";
  policyString: string[];
  mx: string[];
  success: number;
  /** "result-type mx-host" → count */
  failures: Record<string, number>;
}

const KEY = "tlsrpt:";
const keyOf = (day: string, domain: string) => `${KEY}${day}:${domain}`;
export const dayOf = (t: number) => new Date(t).toISOString().slice(0, 10);

/** A TLS failure in one of our delivery errors (texts of core/delivery/smtp-client.ts). */
export function classify(error: string): { type: ResultType; mx: string } | undefined {
  if (!/MTA-STS policy of/.test(error)) return undefined;
  const mx = /([a-z0-9.-]+)\[[0-9a-f.:]+\]: /i.exec(error)?.[1] ?? "";
  if (/STARTTLS (refused|not offered)|but STARTTLS not offered/.test(error)) return { type: "starttls-not-supported", mx };
  if (/not valid for the host name/.test(error)) return { type: "certificate-host-mismatch", mx };
  if (/expired|not yet valid/.test(error)) return { type: "certificate-expired", mx };
  if (/requires a valid certificate/.test(error)) return { type: "certificate-not-trusted", mx };
  if (/lists none of its MX hosts/.test(error)) return { type: "validation-failure", mx };
  return undefined;
}

function policyFields(policy: Policy | undefined): Pick<DayAggregate, "policyType" | "policyString" | "mx"> {
  if (!policy || policy.mode === "none") return { policyType: "no-policy-found", policyString: [], mx: [] };
  return { policyType: "sts", policyString: ["version: STSv1", `mode: ${policy.mode}`, ...policy.mx.map((m) => `mx: ${m}`), `max_age: ${policy.maxAge}`], mx: policy.mx };
}

/** Count one result; writes through the group commit. */
export async function record(db: Db, now: number, domain: string, policy: Policy | undefined, result: { ok: true } | { ok: false; type: ResultType; mx: string }): Promise<void> {
  const key = keyOf(dayOf(now), domain);
  await db.write(async (tx) => {
    const rows = await tx.orm.select().from(settings).where(eq(settings.key, key));
    const agg: DayAggregate = rows[0] ? JSON.parse(rows[0].value) : { ...policyFields(policy), success: 0, failures: {} };
    if (policy && policy.mode !== "none") Object.assign(agg, policyFields(policy));
    if (result.ok) agg.success++;
    else agg.failures[`${result.type} ${result.mx}`] = (agg.failures[`${result.type} ${result.mx}`] ?? 0) + 1;
    const value = JSON.stringify(agg);
    await tx.orm.insert(settings).values({ key, value }).onConflictDoUpdate({ target: settings.key, set: { value } });
  });
}

export async function pending(db: Db, beforeDay: string | undefined): Promise<{ key: string; day: string; domain: string; agg: DayAggregate }[]> {
  const rows = await db.orm
    .select()
    .from(settings)
    .where(like(settings.key, `${KEY}%`));
  return rows
    .map((r) => {
      const [day, domain] = [r.key.slice(KEY.length, KEY.length + 10), r.key.slice(KEY.length + 11)];
      return { key: r.key, day, domain, agg: JSON.parse(r.value) as DayAggregate };
    })
    .filter((p) => beforeDay === undefined || p.day < beforeDay);
}

export async function forget(db: Db, key: string): Promise<void> {
  await db.write((tx) => tx.orm.delete(settings).where(eq(settings.key, key)));
}

/** `rua` URIs of a `_smtp._tls` record (§3): mailto: and https:. */
export function parseRua(records: string[]): string[] {
  const rec = records.find((r) => /^v=TLSRPTv1\s*(;|$)/.test(r.trim()));
  const rua = rec && /(?:^|;)\s*rua=([^;]+)/.exec(rec)?.[1];
  return rua
    ? rua
        .split(",")
        .map((u) => u.trim())
        .filter((u) => /^(mailto:[^\s@]+@[^\s@]+|https:\/\/\S+)$/i.test(u))
    : [];
}

/** §4.4: the report document. */
export function reportJson(o: { domain: string; day: string; agg: DayAggregate; submitter: string; reportId: string }): object {
  const failed = Object.values(o.agg.failures).reduce((a, b) => a + b, 0);
  return {
    "organization-name": o.submitter,
    "date-range": { "start-datetime": `${o.day}T00:00:00Z`, "end-datetime": `${o.day}T23:59:59Z` },
    "contact-info": `postmaster@${o.submitter}`,
    "report-id": o.reportId,
    policies: [
      {
        policy: { "policy-type": o.agg.policyType, "policy-string": o.agg.policyString, "policy-domain": o.domain, ...(o.agg.mx.length ? { "mx-host": o.agg.mx } : {}) },
        summary: { "total-successful-session-count": o.agg.success, "total-failure-session-count": failed },
        "failure-details": Object.entries(o.agg.failures).map(([k, n]) => {
          const [type, mx] = k.split(" ");
          return { "result-type": type, ...(mx ? { "receiving-mx-hostname": mx } : {}), "failed-session-count": n };
        }),
      },
    ],
  };
}

/** §5.3: the report mail (CRLF), the gzipped JSON as an application/tlsrpt+gzip part. */
export function reportMail(o: { domain: string; day: string; submitter: string; reportId: string; to: string; json: object; now: number }): { raw: Uint8Array; gz: Buffer } {
  const gz = gzipSync(Buffer.from(JSON.stringify(o.json)));
  const boundary = `tlsrpt-${crypto.randomUUID()}`;
  const b64 = gz.toString("base64").replace(/.{1,76}/g, "$&\r\n");
  const file = `${o.submitter}!${o.domain}!${o.day}T00:00:00Z!${o.day}T23:59:59Z!${o.reportId}.json.gz`;
  const text = [
    `From: TLS reports <postmaster@${o.submitter}>`,
    `To: <${o.to}>`,
    `Subject: Report Domain: ${o.domain} Submitter: ${o.submitter} Report-ID: <${o.reportId}>`,
    `Date: ${new Date(o.now).toUTCString().replace("GMT", "+0000")}`,
    `Message-ID: <${o.reportId}>`,
    `TLS-Report-Domain: ${o.domain}`,
    `TLS-Report-Submitter: ${o.submitter}`,
    "MIME-Version: 1.0",
    `Content-Type: multipart/report; report-type="tlsrpt"; boundary="${boundary}"`,
    "",
    `--${boundary}`,
    "Content-Type: text/plain; charset=utf-8",
    "",
    `This is an aggregate TLS report from ${o.submitter} about mail to ${o.domain} on ${o.day} (RFC 8460).`,
    "",
    `--${boundary}`,
    "Content-Type: application/tlsrpt+gzip",
    "Content-Transfer-Encoding: base64",
    `Content-Disposition: attachment; filename="${file}"`,
    "",
    b64 + `--${boundary}--`,
    "",
  ].join("\r\n");
  return { raw: new TextEncoder().encode(text), gz };
}
