// MTA-STS (RFC 8461): the TXT record (§3.1), the policy file (§3.2) and MX matching (§4.1).

export interface Policy {
  mode: "enforce" | "testing" | "none";
  /** MX patterns: "mx.example.com" or "*.example.com" (one leftmost label). */
  mx: string[];
  /** Seconds the policy may be cached (at most a year). */
  maxAge: number;
}

/** The id of a `_mta-sts` TXT record ("v=STSv1; id=20240101T000000;"), or undefined when
 *  the answer holds no valid record (§3.1: exactly one STSv1 record). */
export function parseTxt(records: string[]): string | undefined {
  const sts = records.filter((r) => /^v=STSv1\s*(;|$)/.test(r.trim()));
  if (sts.length !== 1) return undefined;
  const id = /(?:^|;)\s*id=([A-Za-z0-9]{1,32})\s*(?:;|$)/.exec(sts[0]!);
  return id?.[1];
}

/** Parse a policy file; throws with the reason when it is not a valid STSv1 policy. */
export function parsePolicy(text: string): Policy {
  const fields = new Map<string, string[]>();
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line) continue;
    const i = line.indexOf(":");
    if (i <= 0) throw new Error(`policy line without "key: value": ${line.slice(0, 80)}`);
    const k = line.slice(0, i).trim();
    fields.set(k, [...(fields.get(k) ?? []), line.slice(i + 1).trim()]);
  }
  if (fields.get("version")?.[0] !== "STSv1") throw new Error("policy version is not STSv1");
  const mode = fields.get("mode")?.[0];
  if (mode !== "enforce" && mode !== "testing" && mode !== "none") throw new Error(`policy mode "${mode ?? ""}" is not enforce, testing or none`);
  const maxAge = Number(fields.get("max_age")?.[0]);
  if (!Number.isInteger(maxAge) || maxAge < 0 || maxAge > 31_557_600) throw new Error("policy max_age is not a number of seconds up to 31557600");
  const mx = (fields.get("mx") ?? []).map((m) => m.toLowerCase().replace(/\.$/, ""));
  if (mode !== "none" && mx.length === 0) throw new Error("policy lists no mx");
  return { mode, mx, maxAge };
}

/** §4.1: an MX host matches a pattern exactly, or "*.example.com" matches one more label. */
export function mxMatches(host: string, patterns: string[]): boolean {
  const h = host.toLowerCase().replace(/\.$/, "");
  return patterns.some((p) => (p.startsWith("*.") ? h.endsWith(p.slice(1)) && !h.slice(0, h.length - p.length + 1).includes(".") && h.length > p.length - 1 : h === p));
}
