// One shape for `kotakpos tls status` and GET /api/admin/tls: each name, issuer, expiry,
// next renewal and the last error in plain words.
import type { NameStatus } from "./store.ts";

export interface StatusView {
  name: string;
  state: NameStatus["state"];
  issuer: string | null;
  notAfter: string | null;
  renewAt: string | null;
  nextAttemptAt: string | null;
  failures: number;
  lastError: string | null;
  permanent: boolean;
}

const iso = (t?: number) => (t ? new Date(t).toISOString() : null);

export function statusView(s: NameStatus): StatusView {
  return {
    name: s.name,
    state: s.state,
    issuer: s.issuer ?? null,
    notAfter: iso(s.notAfter),
    renewAt: iso(s.renewAt),
    nextAttemptAt: iso(s.nextAttemptAt && s.nextAttemptAt > Date.now() ? s.nextAttemptAt : undefined),
    failures: s.failures,
    lastError: s.lastError ?? null,
    permanent: s.permanent === true,
  };
}

const short = (t: string | null) => (t ? t.slice(0, 16).replace("T", " ") + "Z" : "-");

/** Plain text: one block per name. */
export function formatStatus(views: StatusView[]): string {
  const out: string[] = [];
  for (const v of views) {
    out.push(`${v.name}  ${v.state}${v.issuer ? `  issuer: ${v.issuer}` : ""}`);
    out.push(`  expires ${short(v.notAfter)}   renewal ${short(v.renewAt)}${v.nextAttemptAt ? `   next try ${short(v.nextAttemptAt)}` : ""}`);
    if (v.lastError) out.push(`  last error: ${v.lastError}`);
  }
  return out.join("\n") + (out.length ? "\n" : "");
}
